"""With REDIS_URL, the WeChat channel's replicas share their de-duplication store and access token."""

import asyncio
import time
import uuid

import redis

from bot.channels.wechat import InMemoryTTLStore, RedisTTLStore, WeChatAPI, store_from_environment
from tests.bot.channels.fake_wechat import APPID, SECRET, FakeWeChatAPI

REDIS_URL = "redis://127.0.0.1:6379/10"


def test_two_replicas_take_a_message_once():
    # Keys of this run only: another run sharing the Redis server is left alone (no flush).
    run = uuid.uuid4().hex

    async def scenario():
        first, second = RedisTTLStore(REDIS_URL), RedisTTLStore(REDIS_URL)
        taken = [await first.add(f"msg-{run}", "1", 60), await second.add(f"msg-{run}", "1", 60)]
        await first.set(f"options-{run}", "a|b", 60)
        options = await second.get(f"options-{run}")
        await second.delete(f"options-{run}")
        gone = await first.get(f"options-{run}")
        await first.add(f"short-{run}", "1", 0.2)
        await asyncio.sleep(0.4)
        expired = await second.add(f"short-{run}", "1", 60)
        return taken, options, gone, expired

    taken, options, gone, expired = asyncio.run(scenario())
    assert taken == [True, False]
    assert options == "a|b" and gone is None
    assert expired is True


def test_the_store_follows_the_environment(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(store_from_environment(), InMemoryTTLStore)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    assert isinstance(store_from_environment(), RedisTTLStore)


def test_replicas_share_one_access_token(monkeypatch):
    # Only the token of the test's app id is cleared, not the database.
    server = redis.Redis.from_url(REDIS_URL)
    server.delete(*server.keys(f"wechat-token*{APPID}*") or [b"-"])
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    with FakeWeChatAPI() as api:
        replicas = [WeChatAPI(APPID, SECRET, api.base_url), WeChatAPI(APPID, SECRET, api.base_url)]
        try:
            tokens = {replica.client.access_token for replica in replicas}
        finally:
            for replica in replicas:
                replica.close()
        assert len(tokens) == 1
        assert len(api.token_calls()) == 1
