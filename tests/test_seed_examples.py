"""The streaming guide's examples, verbatim but for the imports and the scripted model."""

from __future__ import annotations

import asyncio

from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser, chain


def test_token_loop_prints_the_reply(capsys):
    llm = ScriptedChatModel(responses=["foo bar"])
    for chunk in llm.stream("Say foo"):
        print(chunk.content, end="", flush=True)
    assert capsys.readouterr().out == "foo bar"


def test_joke_chain_prints_its_model_stream_events(capsys):
    model = ScriptedChatModel(responses=["Polly wants a pun"])
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    parser = StrOutputParser()
    chain_ = prompt | model | parser

    async def main():
        async for event in chain_.astream_events({"topic": "parrot"}):
            kind = event["event"]
            if kind == "on_chat_model_stream":
                print(event, end="|", flush=True)

    asyncio.run(main())
    printed = capsys.readouterr().out
    assert printed.count("'event': 'on_chat_model_stream'") == 7  # 4 words, 3 spaces
    assert "AIMessageChunk(content='Polly'" in printed
    assert printed.endswith("|")


def test_reverse_word_prints_the_three_events(capsys):
    @chain
    def reverse_word(word: str):
        return word[::-1]

    async def main():
        async for event in reverse_word.astream_events("hello"):
            print(event)

    asyncio.run(main())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    events = [eval(line) for line in lines]  # the printed dicts are plain literals
    assert [e["event"] for e in events] == ["on_chain_start", "on_chain_stream", "on_chain_end"]
    assert events[0]["data"] == {"input": "hello"}
    assert events[1]["data"] == {"chunk": "olleh"}
    assert events[2]["data"] == {"output": "olleh"}
    for e in events:
        assert e["name"] == "reverse_word"
        assert e["tags"] == [] and e["metadata"] == {} and e["parent_ids"] == []
        assert set(e) == {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}
    assert len({e["run_id"] for e in events}) == 1
