"""Wire-level fakes of the services tests cannot reach."""

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, ThreadedFakeOpenAI

__all__ = ["FakeOpenAI", "RecordedRequest", "ThreadedFakeOpenAI"]
