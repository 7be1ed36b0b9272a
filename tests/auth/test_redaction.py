"""One parser for credentials in query strings: what the refusal recognises, the log hides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from oscal_mcp_auth.asgi import TOKEN_IN_QUERY, read_authorization
from oscal_mcp_auth.redaction import HIDDEN, Parameter, carries_access_token, hide_credentials, query_parameters

TOKEN = "eyJhbGciOi.SECRET-token-value"
SPELLINGS = (
    f"access_token={TOKEN}",
    f"access_t%6Fken={TOKEN}",
    f"access%5ftoken={TOKEN}",
    f"%61ccess_token={TOKEN}",
    f"access_t%256Fken={TOKEN}",
    f"a=1;access_token={TOKEN}",
    f"a=1&access_token={TOKEN}",
    f"a=1%26access_token%3D{TOKEN}",
    f"a=1%3Baccess_token={TOKEN}",
    f";access_token={TOKEN}&b=2",
)


@pytest.mark.parametrize("query", SPELLINGS)
def test_every_spelling_the_refusal_recognises_is_hidden_in_an_access_log_line(query: str) -> None:
    scope = {"type": "http", "query_string": query.encode(), "headers": []}
    assert read_authorization(scope) == TOKEN_IN_QUERY
    line = f'127.0.0.1:5000 - "POST /mcp?{query} HTTP/1.1" 400'
    assert TOKEN not in hide_credentials(line)
    assert HIDDEN in hide_credentials(line)


def test_a_path_parameter_is_hidden_as_uvicorn_logs_it_quoted() -> None:
    assert TOKEN not in hide_credentials(f'"GET /mcp%3Baccess_token%3D{TOKEN} HTTP/1.1" 404')
    assert TOKEN not in hide_credentials(f'"GET /mcp;access_token={TOKEN} HTTP/1.1" 404')


@pytest.mark.parametrize(
    "url",
    [
        "redis://cache.example.com:6379/0?password=S3CRET",
        "rediss://cache.example.com/0?ssl_cert_reqs=none&password=S3CRET",
        "https://idp.example.com/x?client_secret=S3CRET#",
        "https://user:S3CRET@idp.example.com/x",
        "unix:///run/redis.sock?db=0&Password=S3CRET",
        "https://idp.example.com/x?api_key=S3CRET&tenant=a",
    ],
)
def test_url_credentials_are_hidden_wherever_they_sit(url: str) -> None:
    shown = hide_credentials(f"OSCAL_AUTH_CACHE_URL={url!r}: is not accepted")
    assert "S3CRET" not in shown
    assert shown.startswith("OSCAL_AUTH_CACHE_URL=")


def test_harmless_parameters_are_kept() -> None:
    assert hide_credentials("/mcp?page=2&tenant=a") == "/mcp?page=2&tenant=a"
    assert not carries_access_token("page=2&token_type=x")


_QUERY_PIECES = st.sampled_from(
    ["access_token", "access_t%6Fken", "a", "=", "&", ";", "%3B", "%3D", "%26", "+", "%", "x", "token", "?", " ", "T"]
)
queries = st.lists(_QUERY_PIECES, max_size=20).map("".join)


@given(queries)
def test_the_refusal_still_recognises_everything_starlette_reads_as_access_token(query: str) -> None:
    if "access_token" in QueryParams(query):
        assert carries_access_token(query)


@given(st.text(max_size=60) | queries)
def test_no_credential_value_survives_hiding(text: str) -> None:
    hidden = hide_credentials("GET /mcp?" + text)
    for parameter in query_parameters(hidden):
        if "token" in parameter.name.lower():
            assert hidden[parameter.value_start : parameter.value_end] in ("", HIDDEN), hidden


def test_only_the_values_of_credentials_are_replaced_and_the_rest_of_the_line_is_kept() -> None:
    line = '127.0.0.1:5000 - "GET /mcp?page=2&access_token=abc.def HTTP/1.1" 200'
    assert hide_credentials(line) == '127.0.0.1:5000 - "GET /mcp?page=2&access_token=[redacted] HTTP/1.1" 200'


def test_every_credential_of_a_query_is_replaced_and_a_name_without_value_is_left_alone() -> None:
    query = "/cb?access_token&client_secret=s1;password=p2&page=3"
    assert hide_credentials(query) == "/cb?access_token&client_secret=[redacted];password=[redacted]&page=3"


def test_userinfo_is_replaced_as_a_whole_and_the_markers_can_be_chosen() -> None:
    assert hide_credentials("https://user:pw@idp.example.com/x") == "https://[credentials hidden]@idp.example.com/x"
    assert (
        hide_credentials("at https://u:p@h/?a=1&token=t", userinfo="***@", value="***")
        == "at https://***@h/?a=1&token=***"
    )


def test_the_parser_gives_each_decoded_name_and_where_its_value_sits() -> None:
    assert list(query_parameters("/p?a&b%5Fc=de;%3Bf%3Dgh x")) == [
        Parameter("a", 4, 4),
        Parameter("b_c", 11, 13),
        Parameter("", 14, 14),  # the ';' right before the quoted separator
        Parameter("f", 21, 23),
    ]
