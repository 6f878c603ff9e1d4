"""``GET /api/insights`` counts users only as far as the caller may see them (issue 16): a
Member's ``total_users`` counts the users sharing one of their teams (them included; the
public team, implicitly every user's, does not count), a Manager's or Admin's every user
(they may list them all)."""

from __future__ import annotations

from assay.security import issue_token


def test_total_users_of_a_member_counts_only_their_teammates(api):
    def user(name: str, role: str = "Member") -> int:
        return api.ok("POST", "/api/users", json={"name": name, "email": f"{name}@x.test", "role": role})["id"]

    alice, bob, carol, dave = user("alice"), user("bob"), user("carol"), user("dave", "Manager")
    api.ok("POST", "/api/teams", json={"name": "T1", "user_ids": [alice, bob]})
    api.ok("POST", "/api/teams", json={"name": "T2", "user_ids": [bob, dave]})
    database = api.app.state.database
    tokens = {}
    with database.session() as s:
        for name, user_id in (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave)):
            tokens[name] = issue_token(s, database.secret_key, name="t", user_id=user_id)[1]

    def total_users(token: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return api.ok("GET", "/api/insights", headers=headers)["total_users"]

    # the first Admin and the four users above
    assert total_users() == 5
    assert total_users(tokens["dave"]) == 5  # a Manager may list every user
    assert total_users(tokens["alice"]) == 2  # alice and bob (T1)
    assert total_users(tokens["bob"]) == 3  # bob, alice (T1) and dave (T2)
    assert total_users(tokens["carol"]) == 1  # in no team: only herself
