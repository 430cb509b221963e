#!/usr/bin/python3
"""A Python orchestrator talking to agent-auth: open a session, authorize an
action inside it, and read that decision back from the live audit stream.

    ./generate.sh                       # once: writes ./stubs
    PYTHONPATH=stubs /usr/bin/python3 client.py 127.0.0.1:50051 copilot alice read

Prints one JSON object with what happened.
"""
import json
import sys

import grpc
from google.protobuf import struct_pb2

from agentauth.v1 import audit_pb2, audit_pb2_grpc
from agentauth.v1 import authorization_pb2, authorization_pb2_grpc
from agentauth.v1 import decision_pb2
from agentauth.v1 import session_pb2, session_pb2_grpc


def main(address: str, agent: str, user: str, action: str) -> dict:
    with grpc.insecure_channel(address) as channel:
        sessions = session_pb2_grpc.SessionServiceStub(channel)
        authorization = authorization_pb2_grpc.AuthorizationServiceStub(channel)
        audit = audit_pb2_grpc.AuditServiceStub(channel)

        session = sessions.CreateSession(
            session_pb2.CreateSessionRequest(agent=agent, user=user, duration_seconds=600), timeout=10
        ).session

        # "0-0" replays the retained history first, so the decision below
        # cannot slip between opening the stream and making the call.
        stream = audit.Subscribe(
            audit_pb2.SubscribeRequest(filter=audit_pb2.AuditFilter(agents=[agent]), after_cursor="0-0"),
            timeout=30,
        )

        metadata = struct_pb2.Struct()
        metadata.update({"origin": "python-example"})
        decision = authorization.Authorize(
            authorization_pb2.AuthorizeRequest(
                agent=agent, user=user, action=action, session_id=session.session_id, metadata=metadata
            ),
            timeout=10,
        ).decision

        seen = None
        for response in stream:
            if response.event.decision_id == decision.decision_id:
                seen = response.event
                break
        stream.cancel()

        return {
            "session_id": session.session_id,
            "session_status": session_pb2.SessionStatus.Name(session.status),
            "effect": decision_pb2.Effect.Name(decision.effect),
            "tier": decision_pb2.Tier.Name(decision.tier),
            "reason": decision.reason,
            "decision_id": decision.decision_id,
            "streamed_decision_id": seen.decision_id if seen else None,
            "streamed_session_id": seen.session_id if seen else None,
            "streamed_cursor": seen.cursor if seen else None,
        }


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: client.py HOST:PORT AGENT USER ACTION")
    print(json.dumps(main(*sys.argv[1:])))
