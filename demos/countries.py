"""Streaming JSON (section 5 of the streaming guide): the model writes JSON a few
characters at a time and ``JsonOutputParser`` yields ever more complete objects.

streamtui run demos/countries.py
"""

import json

from streamtui import ChatPromptTemplate, JsonOutputParser, ScriptedChatModel

INPUT = {"countries": "France, Spain and Japan"}

ANSWER = json.dumps(
    {
        "countries": [
            {"name": "France", "population": 67750000},
            {"name": "Spain", "population": 47420000},
            {"name": "Japan", "population": 125700000},
        ]
    },
    indent=2,
)

model = ScriptedChatModel(
    responses=[ANSWER], chunking=4, first_chunk_latency=0.2, chunk_latency=0.01
)
prompt = ChatPromptTemplate.from_template(
    "Output a list of {countries} and their populations in JSON format, as a dict with an "
    'outer key "countries"; each country has the keys `name` and `population`.'
)
chain = prompt | model | JsonOutputParser()
