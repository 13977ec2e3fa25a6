"""The official OpenAI Python SDK as a gateway's client, one scenario per run.

Usage: openai_client.py BASE_URL API_KEY SCENARIO [MODEL]
Prints one JSON object per line on stdout (flushed, so a streamed chunk is reported the
moment the SDK yields it): what the SDK returned, or the SDK's own exception class and
status. The API key is whatever the gateway's caller holds: a JWT, never a provider key.
"""

import json
import sys

import openai


def report(**fields):
    print(json.dumps(fields), flush=True)


def run(client, scenario, model):
    if scenario == "chat":
        done = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "A poem?"}]
        )
        report(event="chat", content=done.choices[0].message.content, model=done.model)
    elif scenario == "stream":
        chunks = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "A poem?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        for index, chunk in enumerate(chunks):
            if chunk.choices and chunk.choices[0].delta.content:
                report(event="chunk", index=index, content=chunk.choices[0].delta.content)
            if chunk.usage is not None:
                report(event="usage", total_tokens=chunk.usage.total_tokens)
        report(event="done")
    elif scenario == "responses":
        response = client.responses.create(model=model, input="A poem?")
        report(event="responses", output_text=response.output_text, status=response.status)
    elif scenario == "models":
        report(event="models", ids=[m.id for m in client.models.list()])
    else:
        raise SystemExit(f"unknown scenario {scenario}")


def main():
    base_url, api_key, scenario = sys.argv[1:4]
    model = sys.argv[4] if len(sys.argv) > 4 else "gpt-3.5-turbo"
    # No retries: a refusal must surface as the one error the SDK raises for it.
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)
    try:
        run(client, scenario, model)
    except openai.APIStatusError as err:
        body = err.body if isinstance(err.body, dict) else None
        report(
            event="error",
            error=type(err).__name__,
            status=err.status_code,
            code=(body or {}).get("code"),
            message=err.message,
        )


if __name__ == "__main__":
    main()
