"""The brief's free-form audience, mapped onto each platform's real targeting vocabulary.

Why tables and not a language model: targeting options are a closed vocabulary per platform (Meta's age floor and
"65+" cap, LinkedIn's job functions and seniorities, TikTok's interest categories, Google's affinity and in-market
segments); a plan that names an option the platform does not have cannot be launched. Terms we cannot map are
listed as ``unmapped`` rather than guessed. Reach is estimated only where the inputs allow it (see
``reach_method``): the benchmark table has no audience sizes or frequencies, so paid platforms get an impression
forecast and an explicit "unique reach not estimated"; email reach is the list size.
"""

from __future__ import annotations

import re
from typing import Any

META_AGE_BRACKETS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 65))
GOOGLE_AGE_BRACKETS = META_AGE_BRACKETS  # Google Ads demographic age ranges: 18-24 ... 55-64, 65+
TIKTOK_AGE_BRACKETS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 55))  # TikTok: 18-24 ... 45-54, 55+

LINKEDIN_JOB_FUNCTIONS = (
    "Accounting", "Administrative", "Arts and Design", "Business Development", "Community and Social Services",
    "Consulting", "Education", "Engineering", "Entrepreneurship", "Finance", "Healthcare Services",
    "Human Resources", "Information Technology", "Legal", "Marketing", "Media and Communication",
    "Military and Protective Services", "Operations", "Product Management", "Program and Project Management",
    "Purchasing", "Quality Assurance", "Real Estate", "Research", "Sales", "Customer Success and Support",
)  # fmt: skip
LINKEDIN_SENIORITIES = (
    "Unpaid", "Training", "Entry", "Senior", "Manager", "Director", "VP", "CXO", "Partner", "Owner",
)  # fmt: skip

#: keyword (lower case, matched as a word in an interest or behavior) -> options per platform
INTEREST_MAP: dict[str, dict[str, list[str]]] = {
    "shopping": {
        "meta_ads": ["Shopping and fashion", "Online shopping"],
        "tiktok_ads": ["Apparel & Accessories", "E-Commerce (Non-app)"],
        "youtube_ads": ["Affinity: Shoppers", "In-market: Apparel & Accessories"],
    },
    "fashion": {
        "meta_ads": ["Fashion", "Clothing"],
        "tiktok_ads": ["Apparel & Accessories"],
        "youtube_ads": ["Affinity: Fashionistas", "In-market: Apparel & Accessories"],
    },
    "deals": {
        "meta_ads": ["Coupons", "Discount stores"],
        "tiktok_ads": ["E-Commerce (Non-app)"],
        "youtube_ads": ["Affinity: Shoppers > Bargain Hunters"],
    },
    "beauty": {
        "meta_ads": ["Beauty", "Cosmetics"],
        "tiktok_ads": ["Beauty & Personal Care"],
        "youtube_ads": ["Affinity: Beauty Mavens", "In-market: Beauty Products & Services"],
    },
    "fitness": {
        "meta_ads": ["Physical fitness"],
        "tiktok_ads": ["Sports & Outdoors"],
        "youtube_ads": ["Affinity: Health & Fitness Buffs"],
    },
    "travel": {
        "meta_ads": ["Travel"],
        "tiktok_ads": ["Travel"],
        "youtube_ads": ["Affinity: Travel Buffs", "In-market: Travel"],
    },
    "technology": {
        "meta_ads": ["Technology", "Consumer electronics"],
        "tiktok_ads": ["Tech & Electronics"],
        "youtube_ads": ["Affinity: Technophiles", "In-market: Consumer Electronics"],
    },
    "food": {
        "meta_ads": ["Food and drink"],
        "tiktok_ads": ["Food & Beverage"],
        "youtube_ads": ["Affinity: Food & Dining"],
    },
    "home": {
        "meta_ads": ["Home and garden"],
        "tiktok_ads": ["Home Improvement", "Household Products"],
        "youtube_ads": ["Affinity: Home & Garden Enthusiasts", "In-market: Home & Garden"],
    },
    "gaming": {
        "meta_ads": ["Games"],
        "tiktok_ads": ["Games"],
        "youtube_ads": ["Affinity: Gamers"],
    },
    "finance": {
        "meta_ads": ["Personal finance"],
        "tiktok_ads": ["Financial Services"],
        "youtube_ads": ["In-market: Financial Services"],
    },
    "software": {
        "meta_ads": ["Software"],
        "linkedin_ads": ["Information Technology"],
        "youtube_ads": ["In-market: Business Services"],
    },
}
BEHAVIOR_MAP: dict[str, dict[str, list[str]]] = {
    "online_purchaser": {
        "meta_ads": ["Behaviors: Engaged Shoppers"],
        "youtube_ads": ["Affinity: Shoppers"],
        "email": ["Purchased in the last 180 days"],
    },
    "brand_conscious": {
        "meta_ads": ["Luxury goods"],
        "youtube_ads": ["Affinity: Shoppers > Luxury Shoppers"],
        "email": ["Engaged with brand emails in the last 90 days"],
    },
    "frequent_traveler": {
        "meta_ads": ["Behaviors: Frequent Travelers"],
        "youtube_ads": ["Affinity: Travel Buffs"],
    },
    "small_business_owner": {
        "meta_ads": ["Behaviors: Small business owners"],
        "linkedin_ads": ["Seniority: Owner"],
    },
}
EMAIL_BASE_SEGMENTS = (
    "Engaged: opened or clicked in the last 30 days",
    "Warm: opened or clicked 31-90 days ago",
    "Past purchasers (last 180 days)",
    "Cart or browse abandoners (last 14 days)",
)


def parse_age_range(text: str | None) -> tuple[int, int] | None:
    """'25-54' -> (25, 54); '18+' -> (18, 100); None when absent. Raises ValueError on nonsense."""
    if not text:
        return None
    t = text.replace(" ", "")
    m = re.fullmatch(r"(\d{1,3})-(\d{1,3})", t)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
    elif re.fullmatch(r"(\d{1,3})\+", t):
        lo, hi = int(t[:-1]), 100
    else:
        raise ValueError(f"'{text}' is not an age range like '25-54' or '18+'")
    if not 13 <= lo <= hi <= 100:
        raise ValueError(f"'{text}': ages must satisfy 13 <= low <= high <= 100")
    return lo, hi


def brackets(age: tuple[int, int] | None, table: tuple[tuple[int, int], ...]) -> list[str]:
    """Platform brackets overlapping the requested range (a platform cannot target half a bracket: we say so)."""
    lo, hi = age or (18, 100)
    out = []
    for a, b in table:
        top = 100 if b == table[-1][1] and a == b else b
        if a <= hi and lo <= top:
            out.append(f"{a}+" if a == b else f"{a}-{b}")
    return out


def _words(term: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", term.lower())) | {term.lower().strip()}


def _map_terms(terms: list[str], table: dict[str, dict[str, list[str]]], platform: str) -> tuple[list, list]:
    mapped: list[str] = []
    unmapped: list[str] = []
    for term in terms:
        hits = [opt for key, opts in table.items() if key in _words(term) for opt in opts.get(platform, [])]
        if hits:
            mapped.extend(h for h in hits if h not in mapped)
        else:
            unmapped.append(term)
    return mapped, unmapped


def _gender(value: str | None) -> list[str]:
    v = (value or "mixed").lower()
    if v in {"female", "women", "f"}:
        return ["female"]
    if v in {"male", "men", "m"}:
        return ["male"]
    return ["all"]


def _keyword_themes(
    campaign_name: str, interests: list[str], behaviors: list[str], objective: str
) -> list[dict]:
    """Search themes with intent modifiers; match types follow intent (exact for buying terms)."""
    modifiers = (
        ["buy", "best", "sale", "online"] if objective == "conversions" else ["best", "guide", "ideas"]
    )
    themes = []
    for interest in interests:
        base = interest.replace("_", " ").strip().lower()
        themes.append(
            {
                "theme": base,
                "example_keywords": [f"{m} {base}" if m != "online" else f"{base} online" for m in modifiers],
                "match_types": ["phrase", "exact"] if objective == "conversions" else ["broad", "phrase"],
            }
        )
    name = re.sub(r"\bcampaign\b", "", campaign_name, flags=re.I).strip().lower()
    if name:
        themes.append(
            {"theme": name, "example_keywords": [name, f"{name} offers"], "match_types": ["phrase"]}
        )
    return themes


def build_audience(
    brief: dict[str, Any],
    platforms: list[str],
    objective: str,
    impressions_p50: dict[str, float],
    clicks_p50: dict[str, float],
    email_list_size: int | None,
    email_list_assumed: bool,
) -> dict[str, Any]:
    """Segments per platform in that platform's own targeting terms, with reach where it can be estimated."""
    ta = brief.get("target_audience") or {}
    demo = ta.get("demographics") or {}
    interests = list(ta.get("interests") or [])
    behaviors = list(ta.get("behaviors") or [])
    age = parse_age_range(demo.get("age_range"))
    geo = list(brief.get("geo") or demo.get("locations") or [])
    out: dict[str, Any] = {
        "source": {"demographics": demo, "interests": interests, "behaviors": behaviors, "geo": geo},
        "platforms": {},
    }
    not_estimated = (
        "unique reach is not estimated: the benchmark table has no audience sizes or frequencies; "
        "impressions_p50 is the forecast impression volume (an upper bound on reach)"
    )
    for p in platforms:
        seg: dict[str, Any]
        if p == "meta_ads":
            ints, miss_i = _map_terms(interests, INTEREST_MAP, p)
            behs, miss_b = _map_terms(behaviors, BEHAVIOR_MAP, p)
            seg = {
                "age_brackets": brackets(age, META_AGE_BRACKETS),
                "genders": _gender(demo.get("gender")),
                "locations": geo,
                "detailed_targeting": {"interests": ints, "behaviors": behs},
                "advantage_plus_audience": "suggested as a second ad set to test against the detailed targeting",
                "unmapped": miss_i + miss_b,
            }
        elif p in {"google_ads", "youtube_ads"}:
            seg = {
                "age_brackets": brackets(age, GOOGLE_AGE_BRACKETS),
                "genders": _gender(demo.get("gender")),
                "locations": geo,
            }
            if p == "google_ads":
                seg["keyword_themes"] = _keyword_themes(
                    brief.get("campaign_name", ""), interests, behaviors, objective
                )
                seg["audience_signals"] = _map_terms(
                    interests + behaviors, INTEREST_MAP | BEHAVIOR_MAP, "youtube_ads"
                )[0]
                seg["unmapped"] = []
            else:
                ints, miss_i = _map_terms(interests, INTEREST_MAP, p)
                behs, miss_b = _map_terms(behaviors, BEHAVIOR_MAP, p)
                seg["affinity"] = [x for x in ints + behs if x.startswith("Affinity")]
                seg["in_market"] = [x for x in ints + behs if x.startswith("In-market")]
                seg["unmapped"] = miss_i + miss_b
        elif p == "linkedin_ads":
            titles = [t.lower() for t in demo.get("job_titles") or []] + [i.lower() for i in interests]
            functions = [f for f in LINKEDIN_JOB_FUNCTIONS if any(f.lower().split()[0] in t for t in titles)]
            wanted = {s.lower() for s in demo.get("seniority") or []}
            seniorities = [s for s in LINKEDIN_SENIORITIES if s.lower() in wanted] or [
                "Senior",
                "Manager",
                "Director",
            ]
            seg = {
                "job_functions": functions,
                "seniorities": seniorities,
                "industries": [brief.get("industry")] if brief.get("industry") else [],
                "company_size": demo.get("company_size"),
                "locations": geo,
                "note": "LinkedIn has no age or interest targeting comparable to Meta; member traits are used",
                "unmapped": [
                    t for t in interests if not any(f.lower().split()[0] in t.lower() for f in functions)
                ],
            }
        elif p == "tiktok_ads":
            ints, miss_i = _map_terms(interests + behaviors, INTEREST_MAP, p)
            seg = {
                "age_brackets": brackets(
                    age if age is None or age[0] >= 18 else (18, age[1]), TIKTOK_AGE_BRACKETS
                ),
                "genders": _gender(demo.get("gender")),
                "locations": geo,
                "interest_categories": ints,
                "unmapped": miss_i,
            }
        else:  # email
            behs, miss_b = _map_terms(behaviors, BEHAVIOR_MAP, p)
            seg = {
                "segments": list(EMAIL_BASE_SEGMENTS) + [b for b in behs if b not in EMAIL_BASE_SEGMENTS],
                "unmapped": miss_b,
            }
        if p == "email":
            seg["estimated_reach"] = email_list_size
            seg["reach_method"] = "the mailable list size" + (
                " (assumed: constraints.email_list_size was not given)" if email_list_assumed else ""
            )
        else:
            seg["estimated_reach"] = None
            seg["reach_method"] = not_estimated
        seg["impressions_p50"] = round(impressions_p50.get(p, 0.0))
        seg["clicks_p50"] = round(clicks_p50.get(p, 0.0))
        out["platforms"][p] = seg
    return out
