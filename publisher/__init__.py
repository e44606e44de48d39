"""The publisher: a batch job that turns the provincial offices' reports into a verified release.

Pipeline (each step a module with small pure functions, testable alone):
read -> validate -> reconcile -> classify -> (history diff) -> write files, index, database.
`pipeline.build_release()` runs the pure part; `pipeline.publish()` adds the side effects.
"""
