"""Content strategy per platform: formats with their real specs, messaging angles per audience segment, the
creative variants to test (tied to the test plan) and a cadence.

Specs are the platforms' published limits (aspect ratios, pixel sizes, character limits, video lengths) as of
2025; they change, so each block carries ``spec_note`` with where to re-check. Angles are chosen from the
objective and the brief's own interests/behaviors: they are starting points an account manager edits, not copy.
"""

from __future__ import annotations

from typing import Any

SPECS: dict[str, dict[str, Any]] = {
    "google_ads": {
        "formats": [
            {
                "format": "Responsive search ad",
                "headlines": {"count": "3-15", "max_chars": 30},
                "descriptions": {"count": "2-4", "max_chars": 90},
                "display_path": {"count": 2, "max_chars": 15},
            },
            {
                "format": "Responsive display ad (remarketing)",
                "images": [
                    {"aspect_ratio": "1.91:1", "recommended_px": "1200x628"},
                    {"aspect_ratio": "1:1", "recommended_px": "1200x1200"},
                ],
                "short_headline_max_chars": 30,
                "long_headline_max_chars": 90,
                "description_max_chars": 90,
            },
        ],
        "spec_note": "Google Ads Help: responsive search ads; responsive display ad specifications",
    },
    "meta_ads": {
        "formats": [
            {"format": "Feed image/video", "aspect_ratios": ["1:1", "4:5"], "recommended_px": "1080x1350"},
            {
                "format": "Stories/Reels video",
                "aspect_ratio": "9:16",
                "recommended_px": "1080x1920",
                "recommended_length_s": "under 15 (Reels up to 90)",
            },
            {"format": "Carousel", "cards": "2-10", "aspect_ratio": "1:1", "recommended_px": "1080x1080"},
        ],
        "copy": {"primary_text_recommended_chars": 125, "headline_recommended_chars": 40},
        "spec_note": "Meta Ads Guide (facebook.com/business/ads-guide)",
    },
    "linkedin_ads": {
        "formats": [
            {
                "format": "Single image ad",
                "aspect_ratios": ["1.91:1", "1:1"],
                "recommended_px": "1200x627 or 1200x1200",
            },
            {
                "format": "Video ad",
                "length_s": "3 s - 30 min (15-30 s recommended)",
                "aspect_ratios": ["16:9", "1:1"],
            },
            {"format": "Document ad", "pages": "up to 300", "file": "PDF, DOC, PPT"},
        ],
        "copy": {
            "introductory_text_recommended_chars": 150,
            "introductory_text_max_chars": 600,
            "headline_recommended_chars": 70,
            "headline_max_chars": 200,
        },
        "spec_note": "LinkedIn Marketing Solutions: ad specs",
    },
    "tiktok_ads": {
        "formats": [
            {
                "format": "In-feed video",
                "aspect_ratio": "9:16",
                "recommended_px": "1080x1920",
                "length_s": "5-60 (21-34 recommended)",
            },
            {"format": "Spark Ads (boosted organic or creator posts)", "aspect_ratio": "9:16"},
        ],
        "copy": {"ad_text_chars": "12-100", "display_name_chars": "2-40"},
        "spec_note": "TikTok Ads Manager help: video ads specifications",
    },
    "youtube_ads": {
        "formats": [
            {
                "format": "Skippable in-stream",
                "aspect_ratio": "16:9",
                "skippable_after_s": 5,
                "recommended_length_s": "15-60 (under 3 min)",
            },
            {"format": "Bumper", "aspect_ratio": "16:9", "length_s": "6 max, non-skippable"},
            {"format": "Shorts", "aspect_ratio": "9:16", "length_s": "up to 60"},
        ],
        "copy": {"headline_max_chars": 30, "long_headline_max_chars": 90, "description_max_chars": 90},
        "spec_note": "Google Ads Help: video ad formats and specifications",
    },
    "email": {
        "formats": [
            {
                "format": "Campaign email",
                "width_px": 600,
                "subject_line_recommended_chars": "40-50 (mobile truncates near 40)",
                "preheader_chars": "40-100",
                "alt_text": "on every image (many clients block images by default)",
            },
            {"format": "Automated flow (abandoned cart / browse)", "emails": "2-3 over 72 hours"},
        ],
        "spec_note": "common ESP guidance (Mailchimp, Klaviyo help centres)",
    },
}

ANGLES: dict[str, list[tuple[str, str]]] = {
    "conversions": [
        ("offer_urgency", "Limited-time offer with a clear end date"),
        ("value_proof", "Why it is worth it: quality, reviews, guarantees"),
        ("social_proof", "Ratings, customer photos, bestseller badges"),
    ],
    "leads": [
        ("problem_solution", "The problem, the cost of ignoring it, the fix"),
        ("lead_magnet", "A useful guide, calculator or demo in exchange for an email"),
        ("credibility", "Customer logos, results, certifications"),
    ],
    "traffic": [
        ("curiosity", "A question or fact that needs the click to resolve"),
        ("utility", "A how-to or list the reader will use"),
    ],
    "awareness": [
        ("brand_story", "Who we are and why it matters, in the first 3 seconds"),
        ("memorable_hook", "A distinctive visual or sound the audience will recall"),
    ],
}

CADENCE = {
    "google_ads": "review search terms weekly; rotate in 2-3 new headlines every 2 weeks",
    "meta_ads": "3-5 creatives per ad set at launch; refresh when frequency passes ~3 or CTR falls 20 % from its peak",
    "linkedin_ads": "2-4 ads per campaign; refresh every 4-6 weeks",
    "tiktok_ads": "new hooks weekly; TikTok creative fatigues fastest",
    "youtube_ads": "one hero video plus bumper cut-downs; refresh after 4-6 weeks",
    "email": "planned sends per week as assumed in the cost model; automated flows always on",
}


def _segments(brief: dict[str, Any]) -> list[str]:
    ta = brief.get("target_audience") or {}
    segs = [str(i) for i in ta.get("interests") or []] + [str(b) for b in ta.get("behaviors") or []]
    return segs or ["core audience"]


def build_content(
    brief: dict[str, Any],
    platforms: list[str],
    objective: str,
    tests: list[dict[str, Any]],
    sends_per_week: float,
) -> dict[str, dict[str, Any]]:
    """One block per platform; the first variants to test are the ones the test plan measures."""
    angles = ANGLES.get(objective, ANGLES["conversions"])
    segments = _segments(brief)
    name = brief.get("campaign_name", "")
    tests_by_platform = {t["platform"]: t for t in tests}
    out: dict[str, dict[str, Any]] = {}
    for p in platforms:
        per_segment = [
            {"segment": seg, "angle": angles[i % len(angles)][0], "message": angles[i % len(angles)][1]}
            for i, seg in enumerate(segments)
        ]
        test = tests_by_platform.get(p)
        variants = [
            {"variant": "A", "angle": angles[0][0], "note": f"{name}: {angles[0][1]}"},
            {"variant": "B", "angle": angles[1][0], "note": f"{name}: {angles[1][1]}"},
        ]
        cadence = CADENCE[p]
        if p == "email":
            cadence = (
                f"{sends_per_week:g} sends per subscriber per week (the cost model's assumption); {cadence}"
            )
        out[p] = {
            **SPECS[p],
            "messaging_angles": per_segment,
            "creative_variants": variants,
            "test": test["test"] if test else None,
            "cadence": cadence,
        }
    return out
