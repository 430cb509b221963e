#!/usr/bin/env python3
"""An AuthZEN client with nothing but the Python standard library (urllib).

Asks agent-auth's OpenID AuthZEN Authorization API whether an agent, acting
for a user, may do an action on a resource (one evaluation), then asks about
several actions at once (evaluations), and prints what it learned as JSON.
When the answer is a requestable deny (the action needs a human's approval),
it submits the access request the deny offers and reads the task's status.

    python3 authzen_client.py http://127.0.0.1:8080 copilot alice read /docs/1 [TOKEN]

The base URL's discovery document says where the endpoints are; a bearer
token is sent when given (callers configured on the server).
"""
import json
import sys
import urllib.error
import urllib.request


def call(url, body=None, token=None, request_id=None, idempotency_key=None):
    """POSTs body as JSON (GET without one); returns (status, headers (case-insensitive), parsed JSON)."""
    headers = {"Accept": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    if request_id:
        headers["X-Request-ID"] = request_id
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.headers, json.loads(res.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read().decode("utf-8"))


def main(argv):
    base, agent, user, action, resource = argv[1:6]
    token = argv[6] if len(argv) > 6 else None
    _, _, config = call(base.rstrip("/") + "/.well-known/authzen-configuration")

    # The user is the subject; the agent acting for them is its RFC 8693 actor.
    subject = {"type": "user", "id": user, "properties": {"act": {"sub": agent, "sub_profile": "ai_agent"}}}
    status, headers, single = call(
        config["access_evaluation_endpoint"],
        {"subject": subject, "action": {"name": action}, "resource": {"type": "resource", "id": resource}},
        token,
        "py-1",
    )
    # Defaults at the top, one action per item; stop at the first deny.
    _, _, batch = call(
        config["access_evaluations_endpoint"],
        {
            "subject": subject,
            "resource": {"type": "resource", "id": resource},
            "evaluations": [{"action": {"name": a}} for a in (action, "delete", action)],
            "options": {"evaluations_semantic": "deny_on_first_deny"},
        },
        token,
    )
    # A requestable deny: ask for the approval with the PDP's binding token, then read the task.
    requested = None
    offer = single.get("context", {}).get("access_request")
    if offer:
        submitted, _, created = call(
            offer.get("endpoint") or config["access_request_endpoint"],
            {
                "subject": subject,
                "action": {"name": action},
                "resource": {"type": "resource", "id": resource},
                "context": {"business_justification": "asked by the Python example"},
                "denial": {"binding_token": offer["binding_token"], "expires_at": offer["expires_at"]},
            },
            token,
            idempotency_key="py-" + single["context"]["decision_id"],
        )
        requested = {"status": submitted, "problem": created.get("type")}
        if submitted == 201:
            _, _, polled = call(created["task"]["status_endpoint"], token=token)
            requested["task_status"] = polled["task"]["status"]
    print(json.dumps({
        "status": status,
        "request_id": headers.get("X-Request-ID"),
        "decision": single.get("decision"),
        "reason": single.get("context", {}).get("reason"),
        "error": single.get("error"),
        "batch": [e["decision"] for e in batch.get("evaluations", [])],
        "batch_reasons": [e.get("context", {}).get("reason") for e in batch.get("evaluations", [])],
        "access_request": requested,
    }))


if __name__ == "__main__":
    main(sys.argv)
