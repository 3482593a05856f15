"""Similar past campaigns: embed a brief, find the tenant's nearest past strategies, and what they achieved.

Embedding (offline, the default): scikit-learn's ``HashingVectorizer`` over word 1-2 grams and character 3-5 grams,
hashed into 256 buckets each, every part L2-normalised, summed and normalised again. It has no fitted state and
downloads nothing, so the same text gives the same vector in every process and release of this code, which is
what lets vectors stored months ago be compared with today's query. With ``EMBEDDING_PROVIDER=openai`` the
provider's embedding model is asked for 256 dimensions instead. The two spaces are not comparable: a deployment
picks one and keeps it (switching means re-embedding the stored strategies).

Search: in the caller's unit of work, so row-level security confines it to the tenant (the query names the tenant
too). It is an exact search ordered by pgvector cosine distance within the tenant's rows: an HNSW scan filters
*after* taking its nearest candidates from every tenant, so with many tenants it can miss a tenant's own matches;
one tenant's strategies are few enough to compare exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, text

from strategist.adapters.db.uow import UnitOfWork

EMBEDDING_DIM = 256
#: Weight of the word n-grams against the character n-grams (which carry spelling variants and compounds).
WORD_WEIGHT = 0.75


class EmbeddingUnavailable(RuntimeError):
    """The configured embedding provider failed; the caller stores no vector rather than one from another space."""


class SimilarStrategy(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy_id: uuid.UUID
    client_id: uuid.UUID
    name: str
    #: Cosine similarity of the two embeddings, 0 (unrelated) to 1 (the same text).
    similarity: float
    created_at: dt.datetime
    platforms: list[str]
    objective: str
    #: What the campaigns created from that strategy actually did (campaign_metrics, breakdown '' rows), in the
    #: strategy's currency: spend, conversions, revenue, roas, campaigns, first_date, last_date,
    #: ``unconverted`` (per currency, amounts left out for want of an FX rate) and ``by_platform`` (spend,
    #: impressions, clicks, conversions, revenue, days per platform). None when there is no data yet.
    results: dict[str, Any] | None = None


# -- embedding --------------------------------------------------------------------------------------------------
@functools.cache
def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"n_features": EMBEDDING_DIM, "alternate_sign": False, "norm": "l2", "lowercase": True}
    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)
    return words, chars


def _normalise(values: Iterable[float]) -> list[float]:
    vec = [float(v) for v in values]
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec] if norm > 0 else [0.0] * len(vec)


def hashing_embedding(text_: str) -> list[float]:
    """The offline embedding (see the module docstring). An empty text gives the zero vector."""
    words, chars = _vectorizers()
    w = words.transform([text_]).toarray()[0]
    c = chars.transform([text_]).toarray()[0]
    return _normalise(WORD_WEIGHT * wi + (1 - WORD_WEIGHT) * ci for wi, ci in zip(w, c, strict=True))


def _openai_embedding(text_: str) -> list[float]:
    import openai

    from strategist.adapters.llm.settings import llm_settings

    settings = llm_settings()
    try:
        client = openai.OpenAI(
            api_key=settings.openai_api_key, timeout=settings.timeout_s, max_retries=settings.max_retries
        )
        response = client.embeddings.create(
            model=settings.embedding_model, input=text_, dimensions=EMBEDDING_DIM
        )
        vec = response.data[0].embedding
    except Exception as exc:
        raise EmbeddingUnavailable(f"openai embedding failed: {type(exc).__name__}: {exc}") from exc
    if len(vec) != EMBEDDING_DIM:
        raise EmbeddingUnavailable(f"openai returned {len(vec)} dimensions, expected {EMBEDDING_DIM}")
    return _normalise(vec)


def embed_text(text_: str) -> list[float]:
    """256 floats, L2-normalised. Offline and deterministic unless EMBEDDING_PROVIDER=openai (then it may raise
    ``EmbeddingUnavailable``)."""
    from strategist.adapters.llm.settings import llm_settings

    if text_.strip() and llm_settings().embedding_provider == "openai":
        return _openai_embedding(text_)
    return hashing_embedding(text_)


def _words(value: Any) -> list[str]:
    """Flatten a brief field (string, list, dict of lists) into normalised phrases, order-independent."""
    if value is None:
        return []
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        out: list[str] = []
        for key in sorted(value, key=str):
            out.extend(
                f"{_clean(str(key))} {w}" if w else _clean(str(key)) for w in _words(value[key]) or [""]
            )
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return sorted({w for item in value for w in _words(item)})
    return [_clean(str(value))] if str(value).strip() else []


def _clean(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").lower().split())


def brief_text(brief: Mapping[str, Any] | BaseModel) -> str:
    """The canonical text of a brief, what gets embedded: one line each for objective, campaign type, audience,
    platforms, industry and KPIs, in that order, values only.

    Field labels are left out on purpose: every brief has them, and with 256 hashed features shared boilerplate
    lifts the similarity of unrelated briefs (measured: 0.57 -> 0.23 for a shoe launch vs a B2B lead brief).
    Names, budgets and dates are left out too: they say nothing about which past campaign is comparable. Lists
    and keys are sorted, so the order of a request's fields does not change the vector."""
    data = brief.model_dump(exclude_none=True) if isinstance(brief, BaseModel) else dict(brief)
    audience = data.get("target_audience")
    if isinstance(audience, BaseModel):
        audience = audience.model_dump(exclude_none=True)
    if isinstance(audience, Mapping):
        # demographics / interests / behaviors are structure; "age 25 45", "job titles cto" keep their keys.
        audience = [_words(audience[key]) for key in sorted(audience, key=str)]
    lines = []
    for value in (
        data.get("objective"),
        data.get("campaign_type"),
        audience,
        data.get("platforms"),
        data.get("industry"),
        data.get("kpis"),
    ):
        words = _words(value)
        if words:
            lines.append("; ".join(words))
    return "\n".join(lines)


# -- search -----------------------------------------------------------------------------------------------------
_SEARCH = text(
    """
    WITH candidates AS MATERIALIZED (
      SELECT s.id, s.client_id, s.lineage_id, s.name, s.created_at, s.platforms, s.objective,
             s.embedding <=> CAST(:q AS vector) AS distance
      FROM marketing_strategies s
      WHERE s.tenant_id = :tenant AND s.embedding IS NOT NULL
        AND (CAST(:client AS uuid) IS NULL OR s.client_id = CAST(:client AS uuid))
        AND (CAST(:exclude AS uuid) IS NULL OR s.lineage_id IS DISTINCT FROM
             (SELECT x.lineage_id FROM marketing_strategies x WHERE x.id = CAST(:exclude AS uuid)))
    ), best AS (
      SELECT DISTINCT ON (lineage_id) * FROM candidates ORDER BY lineage_id, distance, created_at DESC
    )
    SELECT id, client_id, name, created_at, platforms, objective, distance
    FROM best WHERE 1 - distance >= :min_similarity
    ORDER BY distance, created_at DESC, id
    LIMIT :k
    """
)

_RESULTS = text(
    """
    SELECT c.strategy_id, c.platform, m.currency, s.currency AS target,
           CASE WHEN m.currency = s.currency THEN NULL ELSE m.date END AS day,
           sum(m.cost) AS spend, sum(m.impressions) AS impressions, sum(m.clicks) AS clicks,
           sum(m.conversions) AS conversions, sum(m.conversion_value) AS revenue,
           array_agg(DISTINCT c.id) AS campaigns, min(m.date) AS first_date, max(m.date) AS last_date,
           array_agg(DISTINCT m.date) AS days
    FROM campaigns c
    JOIN marketing_strategies s ON s.id = c.strategy_id
    JOIN campaign_metrics m ON m.campaign_id = c.id AND m.breakdown = ''
    WHERE c.tenant_id = :tenant AND m.tenant_id = :tenant AND c.strategy_id IN :ids
    GROUP BY c.strategy_id, c.platform, m.currency, s.currency, day
    """
).bindparams(bindparam("ids", expanding=True))


def similar_strategies(
    uow: UnitOfWork,
    text_: str,
    *,
    client_id: uuid.UUID | None = None,
    exclude_id: uuid.UUID | None = None,
    k: int = 5,
    min_similarity: float = 0.3,
) -> list[SimilarStrategy]:
    """The tenant's ``k`` strategies most similar to ``text_`` (a ``brief_text``), best first, one per lineage
    (versions of one plan are one past campaign), at least ``min_similarity`` alike, with their results.

    ``exclude_id`` leaves out that strategy and every version of it (a plan is not its own precedent);
    ``client_id`` keeps one client's strategies only."""
    if uow.tenant_id is None:
        raise ValueError("similar_strategies needs a unit of work with its tenant set")
    if k <= 0:
        return []
    vector = embed_text(text_)
    if not any(vector):
        return []
    rows = uow.session.execute(
        _SEARCH,
        {
            "q": "[" + ",".join(repr(v) for v in vector) + "]",
            "tenant": uow.tenant_id,
            "client": client_id,
            "exclude": exclude_id,
            "min_similarity": min_similarity,
            "k": k,
        },
    ).all()
    if not rows:
        return []
    results = strategy_results(uow, [r.id for r in rows])
    return [
        SimilarStrategy(
            strategy_id=r.id,
            client_id=r.client_id,
            name=r.name,
            similarity=min(1.0, max(0.0, 1.0 - float(r.distance))),
            created_at=r.created_at,
            platforms=list(r.platforms),
            objective=r.objective,
            results=results.get(r.id),
        )
        for r in rows
    ]


def strategy_results(uow: UnitOfWork, strategy_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Actual spend, conversions, revenue and ROAS of the campaigns created from each strategy, in the strategy's
    currency, overall and ``by_platform`` (with impressions, clicks and the number of days with data, which is
    what lets a new plan read per-platform CPM/CTR/CVR/AOV off a past campaign). Rows in another currency convert
    at the ECB rate of their own date (the product's rule, ``services.fx``); a currency the ECB does not publish
    is left out and listed under ``unconverted`` (its counts are left out with it, so every rate stays a ratio
    of the same rows)."""
    if not strategy_ids:
        return {}
    rows = uow.session.execute(_RESULTS, {"tenant": uow.tenant_id, "ids": strategy_ids}).all()
    if not rows:
        return {}
    rates = _rate_table(uow, rows)
    acc: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows:
        out = acc.setdefault(
            r.strategy_id,
            {
                "currency": r.target,
                "spend": Decimal(0),
                "conversions": Decimal(0),
                "revenue": Decimal(0),
                "campaigns": set(),
                "first_date": r.first_date,
                "last_date": r.last_date,
                "unconverted": {},
                "by_platform": {},
            },
        )
        plat = out["by_platform"].setdefault(
            r.platform,
            {
                "spend": Decimal(0),
                "impressions": 0,
                "clicks": 0,
                "conversions": Decimal(0),
                "revenue": Decimal(0),
                "days": set(),
            },
        )
        out["campaigns"].update(r.campaigns)
        out["first_date"] = min(out["first_date"], r.first_date)
        out["last_date"] = max(out["last_date"], r.last_date)
        spend, revenue = r.spend, r.revenue
        if r.day is not None:
            from strategist.services.fx import FxUnavailable

            try:
                spend, _ = rates.convert(r.spend, r.currency, r.target, r.day)
                revenue, _ = rates.convert(r.revenue, r.currency, r.target, r.day)
            except FxUnavailable:
                left = out["unconverted"].setdefault(r.currency, {"spend": Decimal(0), "revenue": Decimal(0)})
                left["spend"] += r.spend
                left["revenue"] += r.revenue
                out["conversions"] += r.conversions
                continue
        out["conversions"] += r.conversions
        out["spend"] += spend
        out["revenue"] += revenue
        plat["spend"] += spend
        plat["revenue"] += revenue
        plat["impressions"] += int(r.impressions or 0)
        plat["clicks"] += int(r.clicks or 0)
        plat["conversions"] += r.conversions
        plat["days"].update(r.days)
    for out in acc.values():
        spend = out["spend"]
        out["spend"] = spend.quantize(Decimal("0.01"))
        out["revenue"] = out["revenue"].quantize(Decimal("0.01"))
        out["conversions"] = out["conversions"].normalize() if out["conversions"] else Decimal(0)
        out["roas"] = float(out["revenue"] / spend) if spend > 0 else None
        out["campaigns"] = len(out["campaigns"])
        for plat in out["by_platform"].values():
            plat["spend"] = plat["spend"].quantize(Decimal("0.01"))
            plat["revenue"] = plat["revenue"].quantize(Decimal("0.01"))
            plat["conversions"] = plat["conversions"].normalize() if plat["conversions"] else Decimal(0)
            plat["days"] = len(plat["days"])
    return acc


def _rate_table(uow: UnitOfWork, rows: list[Any]) -> Any:
    foreign = [r for r in rows if r.day is not None]
    if not foreign:
        return None
    from strategist.services.fx import load_table

    currencies = sorted({r.currency for r in foreign} | {r.target for r in foreign})
    return load_table(uow.session, currencies, min(r.day for r in foreign), max(r.day for r in foreign))
