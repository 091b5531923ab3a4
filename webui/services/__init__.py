"""What the views call: one module per screen's data, no Flask imports.

Services read and write through :mod:`appliance.store` (the aggregates
audit every patient-data read). Where the store has no module for a table
yet (voicemail, recordings, callbacks), the query lives in the one service
module that needs it, never in a view.
"""
