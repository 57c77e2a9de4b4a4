"""The analyst UI's building blocks: backend client, form, charts, batch scoring, sidebar."""
