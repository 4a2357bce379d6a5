"""The web app (`icc-practices serve`): cities check a form before sending it; everyone browses and searches the
practices; the secretariat reviews suggested areas and criteria levels and downloads the spreadsheet.

`pipeline.web.app.create_app` builds the app; `pipeline.web.reviews` (reviews.parquet, reviewed labels for
training) imports nothing of the web stack, so training can use it without loading FastAPI.
"""
