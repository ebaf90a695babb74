"""The environ built for the app (env.wsgi dumps it as JSON)."""
import hashlib

import pytest

from conftest import RawConn, json_body


def raw_env(server, path, method="GET", headers=None, body=None, host=None,
            port=None):
    with RawConn(port or server.port) as c:
        c.request(method, path, headers=headers, body=body, host=host)
        r = c.read_response()
        client_port = c.local_port()
    assert r.status == 200, r
    doc = json_body(r)
    doc["client_port"] = client_port
    return doc


# ---- SCRIPT_NAME / PATH_INFO --------------------------------------------

@pytest.mark.parametrize("path,script,info", [
    ("/env/a/b", "/env", "/a/b"),
    ("/env", "/env", ""),
    ("/env/", "/env", "/"),
    ("/env-slash/x", "/env-slash", "/x"),
    ("/match/env/x/y", "/match/env", "/x/y"),
])
def test_script_name_path_info(server, path, script, info):
    env = server.get_json(path)["environ"]
    assert env["SCRIPT_NAME"] == script
    assert env["PATH_INFO"] == info
    assert not env["SCRIPT_NAME"].endswith("/")


def test_alias_match_script_filename(server):
    env = server.get_json("/match/env/x")["environ"]
    assert env["SCRIPT_FILENAME"] == server.root + "/apps/env.wsgi"


@pytest.mark.parametrize("path,info", [("/", "/"), ("/a/b", "/a/b")])
def test_alias_root_in_vhost(server, path, info):
    env = raw_env(server, path, host="root.test", port=server.port2)["environ"]
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == info


def test_path_info_decoded_latin1_request_uri_raw(server):
    env = raw_env(server, "/env/caf%C3%A9?x=1")["environ"]
    assert env["PATH_INFO"] == "/caf\u00c3\u00a9"
    assert env["REQUEST_URI"] == "/env/caf%C3%A9?x=1"
    assert env["QUERY_STRING"] == "x=1"


def test_query_string_raw(server):
    env = raw_env(server, "/env?a=1&b=%20")["environ"]
    assert env["QUERY_STRING"] == "a=1&b=%20"


# ---- CGI variables ---------------------------------------------------------

def test_cgi_variables(server):
    doc = raw_env(server, "/env/p?q=1")
    env = doc["environ"]
    assert env["SERVER_NAME"] == "localhost"
    assert env["SERVER_PORT"] == str(server.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(doc["client_port"])
    assert env["SCRIPT_FILENAME"] == server.root + "/apps/env.wsgi"
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["HTTP_HOST"] == "localhost:%d" % server.port


def test_no_content_type_or_length_without_body(server):
    env = raw_env(server, "/env")["environ"]
    assert "CONTENT_TYPE" not in env
    assert "CONTENT_LENGTH" not in env
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env


def test_content_type_and_length_with_body(server):
    doc = raw_env(server, "/env", method="POST", body=b"hello",
                  headers=[("Content-Type", "text/x-test")])
    env = doc["environ"]
    assert env["REQUEST_METHOD"] == "POST"
    assert env["CONTENT_TYPE"] == "text/x-test"
    assert env["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert doc["body_len"] == 5


def test_chunked_post(server):
    body = b"0123456789" * 1000 + b"tail"
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 3000]), body[i:i + 3000])
                       for i in range(0, len(body), 3000)) + b"0\r\n\r\n"
    with RawConn(server.port) as c:
        c.request("POST", "/env", headers=[("Transfer-Encoding", "chunked")],
                  extra=chunked)
        r = c.read_response()
    assert r.status == 200, r
    doc = json_body(r)
    env = doc["environ"]
    assert "CONTENT_LENGTH" not in env
    assert env["wsgi.input_terminated"] is True
    assert doc["body_len"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()


# ---- HTTP_* headers -----------------------------------------------------------

def test_underscore_header_not_passed(server):
    env = raw_env(server, "/env", headers=[("X-Foo_Bar", "1"), ("X-Ok-Dash", "2")])["environ"]
    assert env["HTTP_X_OK_DASH"] == "2"
    assert not [k for k in env if "FOO" in k.upper()], sorted(env)


def test_proxy_header_never_http_proxy(server):
    env = raw_env(server, "/env", headers=[("Proxy", "http://evil:1")])["environ"]
    assert "HTTP_PROXY" not in env
    assert "http://evil:1" not in env.values()


def test_authorization_hidden_by_default(server):
    env = raw_env(server, "/env", headers=[("Authorization", "Basic Zm9vOmJhcg==")])["environ"]
    assert "HTTP_AUTHORIZATION" not in env
    env = raw_env(server, "/env-noauth", headers=[("Authorization", "Basic Zm9vOmJhcg==")])["environ"]
    assert "HTTP_AUTHORIZATION" not in env


def test_authorization_with_alias_option(server):
    env = raw_env(server, "/env-auth", headers=[("Authorization", "Basic Zm9vOmJhcg==")])["environ"]
    assert env["HTTP_AUTHORIZATION"] == "Basic Zm9vOmJhcg=="


def test_authorization_with_directive_in_vhost(server):
    env = raw_env(server, "/env", host="auth.test", port=server.port2,
                  headers=[("Authorization", "Bearer tok")])["environ"]
    assert env["HTTP_AUTHORIZATION"] == "Bearer tok"


def test_setenv_cannot_override_server_values(server):
    env = raw_env(server, "/env-setenv")["environ"]
    assert env["REQUEST_METHOD"] == "GET"
    assert env["HTTP_HOST"] == "localhost:%d" % server.port
    assert env["FOO"] == "bar"


def test_setenv_cannot_override_method_on_post(server):
    env = raw_env(server, "/env-setenv", method="POST", body=b"x")["environ"]
    assert env["REQUEST_METHOD"] == "POST"


# ---- types and wsgi.* -------------------------------------------------------

def test_types_native_str(server):
    doc = server.get_json("/env")
    assert doc["key_types"] == ["str"]
    not_str = {k: t for k, t in doc["types"].items()
               if not k.startswith("wsgi.") and t != "str"}
    assert not not_str, not_str


def test_wsgi_keys(server):
    doc = server.get_json("/env")
    env, types = doc["environ"], doc["types"]
    assert types["wsgi.version"] == "tuple" and env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is server.multithread
    assert env["wsgi.multiprocess"] is True
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    for k in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper"):
        assert k in env


def test_url_scheme_https_with_setenv(server):
    env = server.get_json("/env-https")["environ"]
    assert env["wsgi.url_scheme"] == "https"


def test_mod_gateway_keys(server):
    env = server.get_json("/env")["environ"]
    assert env["mod_gateway.process_group"] == server.process_group
    assert isinstance(env["mod_gateway.version"], str) and env["mod_gateway.version"]
    assert isinstance(env["mod_gateway.request_id"], str) and env["mod_gateway.request_id"]
    assert not [k for k in env if k.startswith("HTTP_") and "GATEWAY" in k]


def test_request_id_differs(server):
    ids = {server.get_json("/env")["environ"]["mod_gateway.request_id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("path,group", [
    ("/env", "localhost:{port}|/env"),
    ("/env-global", ""),
    ("/env-server", "localhost:{port}"),
    ("/env-named", "gwnamed"),
])
def test_application_group(server, path, group):
    env = server.get_json(path)["environ"]
    assert env["mod_gateway.application_group"] == group.format(port=server.port)


def test_application_group_directive_in_vhost(server):
    env = raw_env(server, "/env", host="group.test", port=server.port2)["environ"]
    assert env["mod_gateway.application_group"] == "gwvhostgroup"


def test_process_group_global_option_is_embedded(server):
    env = server.get_json("/env-embedded")["environ"]
    assert env["mod_gateway.process_group"] == ""
    assert env["wsgi.multithread"] is (server.mpm != "prefork")
