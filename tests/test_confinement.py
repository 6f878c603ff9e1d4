"""Datastores reach only files inside the server's data roots (ASSAY_DATA_ROOTS), never
Assay's own data directory; errors do not reveal whether an outside path exists."""

from __future__ import annotations

import os

import duckdb

OUTSIDE = "is outside the data roots this server allows (ASSAY_DATA_ROOTS)"


def _post(api, body):
    return api.client.post("/api/datastores", json=body)


def _error(r) -> tuple[list, str]:
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    return error["loc"], error["msg"]


def test_local_folder_outside_the_roots_is_422_and_says_nothing_about_existence(api, tmp_path):
    answers = []
    for uri in ("file:///etc", "file:///no/such/folder/anywhere", f"file://{tmp_path}{'/..' * 30}/etc"):
        loc, msg = _error(_post(api, {"name": "x", "connection": {"type": "local", "uri": uri}}))
        assert loc == ["body", "connection", "uri"]
        assert OUTSIDE in msg
        answers.append(msg)
    assert len(set(answers)) == 1  # an existing and a missing folder get the same answer
    assert api.ok("GET", "/api/datastores")["total"] == 0


def test_database_files_outside_the_roots_are_422(api):
    for kind in ("duckdb", "sqlite"):
        for path in ("/etc/passwd", "/etc/does-not-exist.db"):
            loc, msg = _error(_post(api, {"name": "x", "connection": {"type": kind}, "database": path}))
            assert loc == ["body", "database"] and OUTSIDE in msg
    loc, msg = _error(
        _post(
            api, {"name": "e", "connection": {"type": "duckdb"}, "database": "/etc/e.duckdb", "enrichment_only": True}
        )
    )
    assert loc == ["body", "database"]


def test_assay_own_data_directory_is_always_refused(api, tmp_path):
    data_dir = tmp_path / "assay-data"  # the metadata file and secret key live here (inside a root)
    for name in ("assay.db", "secret.key", "enrichment.duckdb"):
        for kind in ("duckdb", "sqlite"):
            r = _post(api, {"name": "x", "connection": {"type": kind}, "database": str(data_dir / name)})
            loc, msg = _error(r)
            assert loc == ["body", "database"]
            assert "Assay's own data directory" in msg
    loc, msg = _error(_post(api, {"name": "x", "connection": {"type": "local", "uri": f"file://{data_dir}"}}))
    assert loc == ["body", "connection", "uri"] and "Assay's own data directory" in msg
    # through a symlink too
    (tmp_path / "innocent.duckdb").symlink_to(data_dir / "assay.db")
    _loc, msg = _error(
        _post(api, {"name": "x", "connection": {"type": "sqlite"}, "database": str(tmp_path / "innocent.duckdb")})
    )
    assert "Assay's own data directory" in msg


def test_symlinks_leading_out_of_the_roots_are_refused(api, tmp_path):
    (tmp_path / "passwd.duckdb").symlink_to("/etc/passwd")
    loc, msg = _error(
        _post(api, {"name": "x", "connection": {"type": "duckdb"}, "database": str(tmp_path / "passwd.duckdb")})
    )
    assert loc == ["body", "database"] and OUTSIDE in msg
    # a folder: the symlinked file is skipped at sync, the real file is a container
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "good.csv").write_text("a,b\n1,2\n")
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "hosts.csv").symlink_to("/etc/hosts")
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "f", "connection": {"type": "local", "uri": f"file://{folder}"}}
    )
    api.sync(ds["id"])
    names = [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})]
    assert names == ["good"]


def test_data_roots_from_the_environment(api, tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    for folder in (allowed, tmp_path):
        con = duckdb.connect(str(folder / "src.duckdb"))
        con.execute("create table t as select 1 as a")
        con.close()
    ds = api.duckdb_datastore("before", tmp_path / "src.duckdb")  # allowed by the default roots
    monkeypatch.setenv("ASSAY_DATA_ROOTS", f"{allowed}{os.pathsep}/nonexistent-root")
    loc, msg = _error(
        _post(api, {"name": "x", "connection": {"type": "duckdb"}, "database": str(tmp_path / "src.duckdb")})
    )
    assert loc == ["body", "database"] and OUTSIDE in msg
    ok = api.duckdb_datastore("inside", allowed / "src.duckdb")
    api.sync(ok["id"])
    # a datastore created before the roots changed is refused when it is opened
    op = api.run({"type": "sync", "datastore_id": ds["id"]})
    assert op["result"] == "failure" and OUTSIDE in op["message"]
    r = api.client.post(f"/api/datastores/{ds['id']}/connection")
    assert r.json()["connected"] is False and OUTSIDE in r.json()["message"]


def test_enrichment_outside_the_roots_fails_the_scan_not_the_server(api, tmp_path, make_duckdb, monkeypatch):
    ds = api.duckdb_datastore("src", make_duckdb("create table t as select 1 as a"))
    enrichment = api.enrichment_datastore("enr", tmp_path / "enr.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    api.sync(ds["id"])
    monkeypatch.setenv("ASSAY_DATA_ROOTS", "/nonexistent-root")
    op = api.scan(ds["id"])
    assert op["result"] == "failure" and OUTSIDE in op["message"]
    assert not (tmp_path / "enr.duckdb").exists()


def test_the_postgresql_metadata_database_is_never_a_datastore(tmp_path, pg_database):
    from sqlalchemy import make_url

    from tests.conftest import _client, make_settings

    client = _client(make_settings(tmp_path, pg_database))
    api = next(client)
    try:
        name = make_url(pg_database).database
        for host in ("127.0.0.1", "localhost"):
            for extra in ({}, {"enrichment_only": True}):
                body = {
                    "name": "meta",
                    "connection": {"type": "postgresql", "host": host, "port": 5432, "username": "postgres"},
                    "database": name,
                    **extra,
                }
                loc, msg = _error(api.client.post("/api/datastores", json=body))
                assert loc == ["body", "database"] and "Assay's own metadata database" in msg
        other = {"name": "other", "connection": {"type": "postgresql", "host": "127.0.0.1"}, "database": "test"}
        assert api.client.post("/api/datastores", json=other).status_code == 200
    finally:
        client.close()


def test_spark_folders_on_this_machine_are_confined_like_local_ones(api):
    """A Spark datastore's ``uri`` and ``warehouse`` on this machine (read here by a local[N]
    master) stay inside the data roots; a cluster's own URIs (hdfs://, s3a://) are not paths here."""
    for key, value in (("uri", "file:///etc"), ("warehouse", "/etc"), ("uri", "/tmp/../etc")):
        r = api.post(
            "/api/datastores",
            json={"name": "lake", "connection": {"type": "spark", "master": "local[2]", key: value}},
        )
        assert r.status_code == 422, r.text
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", "connection", key]
        assert "outside the data roots" in error["msg"], error
