"""Shared core of Công khai: configuration, storage models, text and tax-code rules, policy.

Both the publisher (batch job) and the portal (Flask app) import from here; nothing in this
package imports Flask views, so the domain rules can be tested and reused on their own.
"""
