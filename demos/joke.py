"""The joke chain from the streaming guide, on the scripted model (no key, no network).

streamtui run demos/joke.py --input topic=parrot
"""

from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser

INPUT = {"topic": "parrot"}

model = ScriptedChatModel(
    responses=["Why did the parrot wear a raincoat? Because it wanted to be Polly-ester."],
    first_chunk_latency=0.2,
    chunk_latency=0.03,
)
prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | model | StrOutputParser()
