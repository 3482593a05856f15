"""Competitor analysis (issue 7): uploaded auction-insights exports, Ad Library records and manual observations,
analysed into competitors by overlap/outranking over time, share-of-voice trends and detected moves, each finding
with the rows it rests on."""
