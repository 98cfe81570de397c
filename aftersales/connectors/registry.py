"""Each platform's adapter and mapping table, by the platform's code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from aftersales.connectors.base import Adapter, Credentials, Mapped, RemoteRequest
from aftersales.connectors.platforms import douyin, jd, kuaishou, pinduoduo, taobao


@dataclass(frozen=True)
class PlatformKit:
    adapter: type[Adapter]
    map_request: Callable[[RemoteRequest], Mapped | None]

    def connect(self, credentials: Credentials, base_url: str = "") -> Adapter:
        """The adapter for a store's keys, on the platform's gateway or ``base_url``, waiting
        ``AFTERSALES_CONNECTOR_TIMEOUT`` seconds for an answer."""
        timeout = float(settings.AFTERSALES_CONNECTOR_TIMEOUT)
        if base_url:
            return self.adapter(credentials, base_url, timeout=timeout)
        return self.adapter(credentials, timeout=timeout)


KITS: dict[str, PlatformKit] = {
    "taobao": PlatformKit(taobao.TaobaoAdapter, taobao.map_request),
    "tmall": PlatformKit(taobao.TmallAdapter, taobao.map_request),
    "jd": PlatformKit(jd.JdAdapter, jd.map_request),
    "pinduoduo": PlatformKit(pinduoduo.PinduoduoAdapter, pinduoduo.map_request),
    "douyin": PlatformKit(douyin.DouyinAdapter, douyin.map_request),
    "kuaishou": PlatformKit(kuaishou.KuaishouAdapter, kuaishou.map_request),
}
