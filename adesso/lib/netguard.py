"""Outbound connections to addresses that tenant admins choose (an API channel's
webhook, an email channel's IMAP and SMTP servers): never to our own networks.

A host is resolved and every address it resolves to must be public: loopback,
private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved
and unspecified ranges are refused, IPv4 and IPv6, IPv4-mapped and NAT64 forms
included. The check runs when the admin saves the address and again at every
connection, which goes to the very address that was checked (a DNS answer that
changes in between, "DNS rebinding", cannot send us elsewhere).

`settings.ADESSO_OUTBOUND_ALLOW` lists networks the operator allows anyway (the
tests' loopback servers, a company relay on 10.0.0.0/8); empty by default. The
operator's own settings (EMAIL_HOST, ADESSO_TELEGRAM_API_BASE) are not checked here.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import smtplib
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from httpcore._backends.sync import SyncStream
from imapclient import IMAPClient, imap4, tls
from pydantic import Field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Public space except these (IANA special-purpose registries, plus what Python's
# is_global misses: CGNAT is not "private" to it, 6to4 and NAT64 embed IPv4).
_REFUSED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


class OutboundRefused(OSError):
    """The address is not one we connect to; the text is safe to show an admin. An
    OSError, so that any client treats it at least as a failed connection."""


def outbound_url(**kwargs: Any) -> Any:
    """A configuration field holding a URL we will call: checked by `check_config`."""
    return Field(json_schema_extra={"outbound": "url"}, **kwargs)


def outbound_host(**kwargs: Any) -> Any:
    """A configuration field holding a host we will connect to: checked by `check_config`."""
    return Field(json_schema_extra={"outbound": "host"}, **kwargs)


def _allowed() -> list[Network]:
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "ADESSO_OUTBOUND_ALLOW", [])]


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 one."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96") or int(ip) >> 32 == 0:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_refused(ip: Address) -> bool:
    """True for an address in our own, shared or special-purpose space."""
    if any(ip in net for net in _allowed() if net.version == ip.version):
        return False
    inner = _embedded_ipv4(ip)
    if inner is not None and is_refused(inner):
        return True
    return any(ip in net for net in _REFUSED if net.version == ip.version) or not ip.is_global


def resolve(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    """Every (family, sockaddr) the host resolves to, all checked; OutboundRefused if any
    is refused (a name that mixes public and private answers is refused whole). A name
    that does not resolve raises socket.gaierror (a temporary failure when connecting)."""
    host = host.strip().strip("[]")
    if not host:
        raise OutboundRefused("The host is empty")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if is_refused(ip):
            raise OutboundRefused(f"The host {host} is on a private or reserved network ({ip}): not allowed")
        out.append((family, tuple(sockaddr)))
    if not out:
        raise OutboundRefused(f"The host {host} could not be resolved")
    return out


def check_host(host: str, port: int) -> None:
    """At save time: the host must resolve, and only to allowed addresses."""
    try:
        resolve(host, port)
    except (socket.gaierror, UnicodeError):
        raise OutboundRefused(f"The host {host} could not be resolved") from None


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Only http and https URLs with a host name are allowed")
    check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def check_config(model: Any) -> None:
    """Check every field marked outbound in a validated configuration (nested models too)."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if value is None:
            continue
        if extra.get("outbound") == "url":
            check_url(str(value))
        elif extra.get("outbound") == "host":
            check_host(str(value), int(getattr(model, "port", 0) or 0))
        elif hasattr(type(value), "model_fields"):
            check_config(value)


def create_connection(
    host: str, port: int, timeout: float | None = None, source_address: tuple[str, int] | None = None
) -> socket.socket:
    """socket.create_connection to the host's checked addresses only."""
    error: OSError | None = None
    for family, sockaddr in resolve(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    assert error is not None
    raise error


# HTTP (httpx): the transport's network backend opens every TCP connection through
# create_connection; TLS still verifies the certificate against the URL's host name.
class _GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        source = None if local_address is None else (local_address, 0)
        try:
            sock = create_connection(host, port, timeout, source)
        except OutboundRefused:
            raise  # not a connection error: the caller says why to the admin
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return SyncStream(sock)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process (certifi's CA bundle): building one reads the bundle,
    about 20 ms of CPU, too much to pay for every client."""
    return ssl.create_default_context(cafile=certifi.where())


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, limits: httpx.Limits | None = None) -> None:
        # trust_env off: no proxy from the environment decides where we connect.
        # (the process's one TLS context: building another reads certifi's bundle again)
        super().__init__(verify=tls_context(), trust_env=False)
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context(),
            network_backend=_GuardedBackend(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )


def http_client(timeout: httpx.Timeout) -> httpx.Client:
    """An httpx client that connects only to checked addresses and follows no redirect
    (OutboundRefused when the host is refused)."""
    return httpx.Client(transport=GuardedTransport(), timeout=timeout, follow_redirects=False, trust_env=False)


# Pooled clients: one per purpose and process, kept open so that calls to the same
# origin reuse a connection (keep-alive) instead of paying a new client, connection
# and TLS handshake each: a send cost 6-15 ms of a worker's CPU that way.
_pool_lock = threading.Lock()
_pooled: dict[str, tuple[tuple[Any, ...], httpx.Client]] = {}
# An idle connection is closed after this long (httpx's default too), before a
# server's own keep-alive timeout is likely to close it under us.
KEEPALIVE_EXPIRY = 5.0


def pooled_client(purpose: str) -> httpx.Client:
    """This process's long-lived client for `purpose` (give each call its timeout).

    It connects only to checked addresses, as http_client (tenant-chosen URLs), verifies
    TLS with the process's one context and follows no redirect. (The Telegram Bot API,
    the operator's own endpoint, has its own client: channels/telegram/botapi.py.) A
    kept-alive connection stays
    with the address that was checked when it opened; a change of
    ADESSO_OUTBOUND_ALLOW, or a fork, gets a new client.
    """
    key = (os.getpid(), tuple(getattr(settings, "ADESSO_OUTBOUND_ALLOW", [])))
    found = _pooled.get(purpose)
    if found is not None and found[0] == key:
        return found[1]
    with _pool_lock:
        found = _pooled.get(purpose)
        if found is not None and found[0] == key:
            return found[1]
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY)
        client = httpx.Client(transport=GuardedTransport(limits), follow_redirects=False, trust_env=False)
        _pooled[purpose] = (key, client)
        if found is not None and found[0][0] == os.getpid():
            found[1].close()  # the allow-list changed: its connections were checked against the old one
        return client


# SMTP (Django's backend over smtplib): smtplib opens its socket in _get_socket;
# SMTP_SSL wraps what SMTP._get_socket returns, with the host name for the certificate.
class _GuardedSocket(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return create_connection(host, port, timeout, self.source_address)  # type: ignore[arg-type]


class _GuardedSMTP(_GuardedSocket):
    pass


class _GuardedSMTPSSL(smtplib.SMTP_SSL, _GuardedSocket):
    pass


class GuardedSmtpBackend(EmailBackend):
    """Django's SMTP backend, connecting only to checked addresses."""

    @property
    def connection_class(self) -> type:
        return _GuardedSMTPSSL if self.use_ssl else _GuardedSMTP


# IMAP (imapclient): both its plain and TLS classes open the socket in _create_socket.
class _GuardedIMAP4(imap4.IMAP4WithTimeout):
    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return create_connection(self.host, self.port, timeout if timeout is not None else self._timeout)


class _GuardedIMAP4TLS(tls.IMAP4_TLS):
    def _create_socket(self, timeout: float | None = None) -> ssl.SSLSocket:
        sock = create_connection(self.host, self.port, timeout if timeout is not None else self._timeout)
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class GuardedIMAPClient(IMAPClient):
    """IMAPClient connecting only to checked addresses."""

    def _create_IMAP4(self) -> Any:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _GuardedIMAP4TLS(self.host, self.port, self.ssl_context, connect_timeout)
        return _GuardedIMAP4(self.host, self.port, connect_timeout)
