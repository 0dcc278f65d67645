#!/usr/bin/env python3
"""DAVE interop driver: hosts a dave.py (libdave) member and a davey (OpenMLS) member for the Swift harness.

The harness (`dave-interop scenario ...`) runs the call with the simulator's voice server role (InMemoryDAVECall)
and our Swift member (VoiceE2EE). It starts this
script as a child process and sends one JSON request per line on stdin; every request gets one JSON reply line
on stdout: {"ok": true, ...} or {"ok": false, "error": "..."}. Binary payloads are hex strings. Ops are the DAVE
voice gateway opcodes; payloads are exactly the binary bodies (op 27/29/30 as sent by the server, op 26/28 as
sent by a client). Nothing leaves the process pair; no network is used.

Requests: new, external_sender(25), key_package(26), proposals(27) -> commit_welcome(28) | null,
commit(29) -> ready | invalid(31), welcome(30) -> ready | invalid(31), execute(22), state, encrypt, decrypt.
"""
import asyncio
import json
import sys

import dave
import davey

PROTOCOL_VERSION = 1


class LibdaveMember:
    """A member on dave.py (nanobind bindings of Discord's libdave)."""

    def __init__(self, user_id, channel_id):
        self.user_id = user_id
        self.channel_id = channel_id
        self.failures = []
        self.session = dave.Session(lambda source, reason: self.failures.append(f"{source}: {reason}"))
        self.encryptor = dave.Encryptor()
        self.encryptor.assign_ssrc_to_codec(1, dave.Codec.opus)
        self.decryptors = {}
        self.external_sender = None
        self.roster = set()
        self.session.init(PROTOCOL_VERSION, channel_id, str(user_id), None)

    def reinit(self):
        self.session.init(PROTOCOL_VERSION, self.channel_id, str(self.user_id), None)
        if self.external_sender is not None:
            self.session.set_external_sender(self.external_sender)

    def set_external_sender(self, payload):
        self.external_sender = payload
        self.session.set_external_sender(payload)

    def key_package(self):
        return self.session.get_marshalled_key_package()

    def proposals(self, payload, recognized):
        return self.session.process_proposals(payload, {str(u) for u in recognized})

    def _install_decryptors(self, changes):
        for uid, key in changes.items():
            if key:
                self.roster.add(int(uid))
            else:
                self.roster.discard(int(uid))
        for uid in sorted(self.roster):
            if uid == self.user_id:
                continue
            ratchet = self.session.get_key_ratchet(str(uid))
            if ratchet is None:
                continue
            decryptor = self.decryptors.setdefault(uid, dave.Decryptor())
            decryptor.transition_to_key_ratchet(ratchet)

    def commit(self, commit):
        result = self.session.process_commit(commit)
        if isinstance(result, dave.RejectType):
            return "ignored" if result == dave.RejectType.ignored else "invalid"
        self._install_decryptors(result)
        return "ready"

    def welcome(self, welcome, recognized):
        result = self.session.process_welcome(welcome, {str(u) for u in recognized})
        if result is None:
            return "invalid"
        self.roster = set()
        self._install_decryptors(result)
        return "ready"

    def execute(self):
        self.encryptor.set_key_ratchet(self.session.get_key_ratchet(str(self.user_id)))

    def state(self):
        authenticator = self.session.get_last_epoch_authenticator() or b""
        code = dave.generate_displayable_code(authenticator, 30, 5) if authenticator else ""
        return {"authenticator": authenticator.hex(), "privacy_code": code, "epoch": None,
                "roster": sorted(str(u) for u in self.roster)}

    def verification_code(self, peer):
        """45-digit code from libdave's pairwise fingerprint (an asyncio future completed by libdave)."""

        async def fingerprint():
            return await self.session.get_pairwise_fingerprint(0, str(peer))

        result = asyncio.run(fingerprint())
        return dave.generate_displayable_code(result, 45, 5) if result else None

    def encrypt(self, frame):
        return self.encryptor.encrypt(dave.MediaType.audio, 1, frame)

    def decrypt(self, sender, frame):
        decryptor = self.decryptors.get(sender)
        return None if decryptor is None else decryptor.decrypt(dave.MediaType.audio, frame)


class DaveyMember:
    """A member on davey (PyO3 bindings of Snazzah/davey, OpenMLS)."""

    def __init__(self, user_id, channel_id):
        self.user_id = user_id
        self.channel_id = channel_id
        self.external_sender = None
        self.session = davey.DaveSession(PROTOCOL_VERSION, user_id, channel_id)

    def reinit(self):
        self.session.reinit(PROTOCOL_VERSION, self.user_id, self.channel_id)
        if self.external_sender is not None:
            self.session.set_external_sender(self.external_sender)

    def set_external_sender(self, payload):
        self.external_sender = payload
        self.session.set_external_sender(payload)

    def key_package(self):
        return self.session.get_serialized_key_package()

    def proposals(self, payload, recognized):
        operation = davey.ProposalsOperationType.append if payload[0] == 0 else davey.ProposalsOperationType.revoke
        result = self.session.process_proposals(operation, payload[1:], [int(u) for u in recognized])
        if result is None:
            return None
        return bytes(result.commit) + (bytes(result.welcome) if result.welcome else b"")

    def commit(self, commit):
        self.session.process_commit(commit)
        return "ready"

    def welcome(self, welcome, recognized):
        self.session.process_welcome(welcome)
        return "ready"

    def execute(self):
        pass

    def state(self):
        authenticator = self.session.get_epoch_authenticator() or b""
        return {"authenticator": bytes(authenticator).hex(), "privacy_code": self.session.voice_privacy_code or "",
                "epoch": self.session.epoch, "roster": sorted(self.session.get_user_ids())}

    def encrypt(self, frame):
        return self.session.encrypt_opus(frame)

    def decrypt(self, sender, frame):
        return self.session.decrypt(sender, davey.MediaType.audio, frame)


KINDS = {"libdave": LibdaveMember, "davey": DaveyMember}


def handle(members, request):
    command = request["cmd"]
    if command == "new":
        members[request["member"]] = KINDS[request["kind"]](int(request["user_id"]), int(request["channel_id"]))
        return {}
    member = members[request["member"]]
    payload = bytes.fromhex(request.get("payload", ""))
    recognized = [int(u) for u in request.get("recognized", [])]
    if command == "external_sender":
        member.set_external_sender(payload)
        return {}
    if command == "key_package":
        return {"payload": bytes(member.key_package()).hex()}
    if command == "proposals":
        result = member.proposals(payload, recognized)
        return {"payload": None if result is None else bytes(result).hex()}
    if command in ("commit", "welcome"):
        body = payload[2:]  # strip the u16 transition id (op 29 / op 30)
        try:
            outcome = member.commit(body) if command == "commit" else member.welcome(body, recognized)
        except Exception as error:  # the peer refused the message: the client answers op 31
            outcome = "invalid"
            sys.stderr.write(f"driver: {request['member']} refused {command}: {error}\n")
        if outcome == "invalid":
            member.reinit()
            return {"outcome": "invalid", "payload": bytes(member.key_package()).hex()}
        return {"outcome": outcome}
    if command == "execute":
        member.execute()
        return {}
    if command == "state":
        state = member.state()
        peers = [int(u) for u in request.get("peers", [])]
        if isinstance(member, DaveyMember):
            state["verification"] = {str(u): member.session.get_verification_code(u) for u in peers}
        else:
            state["verification"] = {str(u): member.verification_code(u) for u in peers}
        return state
    if command == "encrypt":
        result = member.encrypt(payload)
        return {"payload": None if result is None else bytes(result).hex()}
    if command == "decrypt":
        try:
            result = member.decrypt(int(request["sender"]), payload)
        except Exception as error:
            return {"payload": None, "reason": str(error)}
        return {"payload": None if result is None else bytes(result).hex()}
    raise ValueError(f"unknown command {command}")


def main():
    members = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = {"ok": True, **handle(members, request)}
        except Exception as error:
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
