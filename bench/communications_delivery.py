"""Communications worker: exactly-once under duplicate, concurrent delivery, and what the Postgres claim costs.

Starts the local stack in process (embedded Postgres, moto SES), queues N single-recipient e-mails for the demo
tenant, then hands every message to TWO worker threads at once (SQS duplicate delivery / a redelivery racing the
first receive) through `deliver()` with the real SES sender against moto. Reports e-mails sent per recipient (must
be exactly 1), per-message latency of the winning worker and of the losing duplicate (which only reads and fails
its claim), and throughput. Then a third pass redelivers everything once more (all already sent: no sends).

Run by hand: .venv/bin/python bench/communications_delivery.py --messages 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "shared")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--messages", type=int, default=300)
    args = p.parse_args()

    from moto.ses.models import ses_backends
    from timing import cpu_model, summary_ms

    from infra.local.aws import ACCOUNT_ID, REGION
    from infra.local.stack import LocalStack
    from strategist import bootstrap
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork
    from strategist.adapters.messaging.email import SesEmailSender
    from strategist.adapters.messaging.sms import SnsSmsSender
    from strategist.adapters.messaging.webhook import WebhookSender
    from strategist.config import get_settings
    from strategist.services.communications import queue_communication
    from strategist.services.communications.delivery import Senders, deliver

    stack = LocalStack(local_dir=Path(tempfile.mkdtemp(prefix="ms-bench-comms-")))
    stack.start(background=False)
    try:
        tid = uuid.UUID(json.loads((stack.local_dir / "demo.json").read_text())["tenants"][0]["tenant_id"])
        s = get_settings()
        senders = Senders(
            email=SesEmailSender(s.data_bucket),
            sms=SnsSmsSender(),
            webhook=WebhookSender(),
            cipher=bootstrap.credential_cipher,
            key_ring=bootstrap.key_ring,
            sender_email=s.sender_email,
            public_base_url=s.public_base_url,
        )
        run = uuid.uuid4().hex[:6]
        ids, rcpt = [], {}
        t0 = time.perf_counter()
        for i in range(args.messages):
            with UnitOfWork(get_sessionmaker(), tenant_id=tid, actor="bench") as uow:
                to = f"bench-{run}-{i}@example.com"
                cid = queue_communication(
                    uow, client_id=None, message_type="update", subject=f"Bench {i}", body_text="Body.",
                    recipients=[to], dedupe_key=f"bench:{run}:{i}",
                )  # fmt: skip
            ids.append(cid)
            rcpt[cid] = to
        queue_s = time.perf_counter() - t0

        def factory() -> UnitOfWork:
            return bootstrap.system_unit_of_work("bench")

        lat: dict[str, list[float]] = {"winner": [], "duplicate": []}
        lock = threading.Lock()

        def one(cid: uuid.UUID, out: list) -> None:
            start = time.perf_counter()
            res = deliver(
                {"tenant_id": str(tid), "communication_id": str(cid)}, uow_factory=factory, senders=senders
            )
            out.append((res.sent, (time.perf_counter() - start) * 1000))

        t0 = time.perf_counter()
        for cid in ids:
            out: list = []
            threads = [threading.Thread(target=one, args=(cid, out)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with lock:
                for sent, ms in out:
                    lat["winner" if sent else "duplicate"].append(ms)
        pair_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = [
            deliver(
                {"tenant_id": str(tid), "communication_id": str(c)}, uow_factory=factory, senders=senders
            ).sent
            for c in ids
        ]
        redeliver_s = time.perf_counter() - t0

        sent = Counter(
            # moto lists a raw message's recipient twice (Destinations + the To header): count messages
            d
            for m in ses_backends[ACCOUNT_ID][REGION].sent_messages
            for d in set(getattr(m, "destinations", []))
        )
        per = Counter(sent[rcpt[c]] for c in ids)
        print(json.dumps({
            "machine": f"{os.cpu_count()} cores, {cpu_model()}",
            "messages": args.messages,
            "emails_per_recipient": dict(per),
            "sent_on_redelivery": sum(again),
            "queue_ms_per_message": round(queue_s * 1000 / args.messages, 1),
            "winner": summary_ms(lat["winner"]),
            "duplicate": summary_ms(lat["duplicate"]),
            "duplicate_pairs_per_s": round(args.messages / pair_s, 1),
            "redelivery_ms_per_message": round(redeliver_s * 1000 / args.messages, 1),
        }, indent=2))  # fmt: skip
        return 0 if set(per) == {1} and sum(again) == 0 else 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
