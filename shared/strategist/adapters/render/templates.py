"""The report's HTML template (Jinja2, autoescaped). Kept as a Python string so it ships inside the package
with no package-data rule; CSS is inline and print-oriented (A4, page numbers, no page breaks inside tables)."""

REPORT_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ r.title }} - {{ r.client.name }} - {{ r.period.description }}</title>
<style>
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-left { content: element(footer); }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-family: "DejaVu Sans", sans-serif;
                  font-size: 8pt; color: #6b7280; } }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 9.5pt; color: #111827; margin: 0; }
header { border-bottom: 3px solid {{ r.agency.primary_color }}; padding-bottom: 8px; margin-bottom: 12px; }
header .agency { color: {{ r.agency.primary_color }}; font-weight: bold; font-size: 10pt; }
h1 { font-size: 18pt; margin: 4px 0 2px 0; }
h2 { font-size: 12.5pt; color: {{ r.agency.primary_color }}; border-bottom: 1px solid #e5e7eb; padding-bottom: 3px;
     margin: 18px 0 8px 0; page-break-after: avoid; }
.meta { color: #4b5563; font-size: 9pt; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 3px; font-weight: bold; font-size: 8.5pt; }
.provisional { background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; padding: 6px 8px; margin: 8px 0; }
.commentary { background: #f9fafb; border-left: 3px solid {{ r.agency.accent_color }}; padding: 6px 10px;
              white-space: pre-wrap; }
table { width: 100%; border-collapse: collapse; margin: 4px 0 8px 0; page-break-inside: avoid; }
th, td { text-align: left; padding: 3px 5px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f3f4f6; font-size: 8.5pt; }
td.num, th.num { text-align: right; white-space: nowrap; }
.met { color: #15803d; font-weight: bold; } .missed { color: #b91c1c; font-weight: bold; }
.muted { color: #6b7280; }
.chart { display: block; margin: 6px 0; }
ul { margin: 4px 0; padding-left: 18px; } li { margin-bottom: 3px; }
.small { font-size: 8pt; }
.footer { position: running(footer); font-size: 8pt; color: #6b7280; }
</style>
</head>
<body>
<div class="footer">{{ r.agency.footer }}</div>
<header>
  <div class="agency">{{ r.agency.name }}</div>
  <h1>{{ r.title }}</h1>
  <div class="meta">{{ r.client.name }} &middot; {{ r.period.description }} ({{ r.period.start|date }} - {{ r.period.end|date }},
    {{ r.period.time_zone }}){% if r.comparison_period %} &middot; compared with {{ r.comparison_period.start|date }} - {{ r.comparison_period.end|date }}{% endif %}</div>
  <div class="meta">Figures in {{ r.currency }} &middot; generated {{ r.generated_at|stamp }} &middot; data as of {{ r.data_as_of|stamp }}</div>
</header>
{% if r.provisional %}
<div class="provisional"><strong>Provisional.</strong> Some platforms may still restate this period:
  {% for reason in r.provisional_reasons %}{{ reason }}{% if not loop.last %}; {% endif %}{% endfor %}.</div>
{% endif %}
{% if commentary %}
<h2>Commentary</h2>
<div class="commentary">{{ commentary }}</div>
{% endif %}

{% if "kpis" in r.sections %}
<h2>Key results against goals</h2>
<table>
  <tr><th>KPI</th><th class="num">This period</th><th class="num">Previous</th><th class="num">Change</th>
      <th class="num">Goal</th><th>Status</th></tr>
  {% for k in r.kpis %}
  <tr><td>{{ k.label }}</td><td class="num">{{ k.value|kpi_value(k.kpi, r.currency) }}</td>
      <td class="num">{{ k.previous|kpi_value(k.kpi, r.currency) }}</td><td class="num">{{ k.change_pct|pct }}</td>
      <td class="num">{% if k.goal is not none %}{{ "<=" if k.goal_kind == "ceiling" else ">=" }} {{ k.goal|kpi_value(k.kpi, r.currency) }}{% else %}-{% endif %}</td>
      <td class="{{ k.status }}">{{ k.status_text }}</td></tr>
  {% endfor %}
</table>
{% if r.kpi_notes %}<ul class="small muted">{% for n in r.kpi_notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{% endif %}

{% if "trends" in r.sections %}
<h2>Trends</h2>
{{ charts.spend_trend }}
{{ charts.conversions_trend }}
{% endif %}

{% if "platform_mix" in r.sections %}
<h2>Platform mix</h2>
{% if r.platforms %}
{{ charts.platform_mix }}
<table>
  <tr><th>Platform</th><th class="num">Spend</th><th class="num">Share</th><th class="num">Conversions</th>
      <th class="num">CPA</th><th class="num">ROAS</th><th>Attribution</th></tr>
  {% for p in r.platforms %}
  <tr><td>{{ p.label }}</td><td class="num">{{ p.spend|money(r.currency) }}</td><td class="num">{{ p.share_of_spend_pct|pct(1, false) }}</td>
      <td class="num">{{ p.conversions|number(2) }}</td><td class="num">{{ p.cpa|money(r.currency) }}</td>
      <td class="num">{{ p.roas|kpi_value("roas", r.currency) }}</td><td class="small">{{ p.attribution_windows|join(", ") }}</td></tr>
  {% endfor %}
</table>
{% else %}<p class="muted">No spend in this period.</p>{% endif %}
{% endif %}

{% if "top_movers" in r.sections %}
<h2>What moved and why</h2>
{% if r.drivers %}<ul>{% for d in r.drivers %}<li>{{ d.summary }}</li>{% endfor %}</ul>{% endif %}
{% if r.movers %}
<table>
  <tr><th>Campaign</th><th class="num">Spend</th><th class="num">Conversions</th><th class="num">CPA</th><th>Why</th></tr>
  {% for m in r.movers %}
  <tr><td>{{ m.name }}<br><span class="small muted">{{ m.platform_label }}</span></td>
      <td class="num">{{ m.spend|money(r.currency) }}<br><span class="small muted">{{ m.spend_change_pct|pct }}</span></td>
      <td class="num">{{ m.conversions|number(2) }}<br><span class="small muted">{{ m.conversions_change|number(2) }} vs previous</span></td>
      <td class="num">{{ m.cpa|money(r.currency) }}<br><span class="small muted">was {{ m.previous_cpa|money(r.currency) }}</span></td>
      <td class="small">{{ m.why }}</td></tr>
  {% endfor %}
</table>
{% else %}<p class="muted">No campaign changed between the two periods.</p>{% endif %}
{% endif %}

{% if "recommendations" in r.sections %}
<h2>Recommendations</h2>
{% if r.recommendations %}
<ul>{% for rec in r.recommendations %}<li><strong>{{ rec.title }}</strong> {{ rec.detail }}
  <span class="small muted">({{ rec.evidence }})</span></li>{% endfor %}</ul>
{% else %}<p class="muted">Nothing needs changing on this period's figures.</p>{% endif %}
{% endif %}

{% if "pacing" in r.sections %}
<h2>Budget pacing</h2>
{% if r.pacing.period_budget %}
<p>Spend in the period: {{ r.pacing.period_budget.spend|money(r.pacing.period_budget.currency) }} of a
  {{ r.pacing.period_budget.budget|money(r.pacing.period_budget.currency) }} budget for the period
  ({{ r.pacing.period_budget.pct_of_budget|pct(1, false) }}): <strong>{{ r.pacing.period_budget.status_text }}</strong>.</p>
{% endif %}
{% if r.pacing.month %}
<p>This month so far ({{ r.pacing.month.month }}, through {{ r.pacing.month.today|date }}):
  {{ r.pacing.month.month_to_date_spend|money(r.pacing.month.currency) }} spent, {{ r.pacing.month.expected_to_date|money(r.pacing.month.currency) }} expected;
  projected month end {{ r.pacing.month.projected_month_end|money(r.pacing.month.currency) }}
  ({{ r.pacing.month.projected_pct_of_budget|pct(1, false) }} of {{ r.pacing.month.monthly_budget|money(r.pacing.month.currency) }}):
  <strong>{{ r.pacing.month.status|replace("_", " ") }}</strong>.</p>
{% endif %}
{% if not r.pacing.period_budget and not r.pacing.month %}<p class="muted">The client has no monthly budget set, so pacing is not measured.</p>{% endif %}
{% endif %}

<h2>Methodology</h2>
<ul class="small">
{% for m in r.methodology %}<li>{{ m }}</li>{% endfor %}
</ul>
{% if r.sources %}
<table class="small">
  <tr><th>Source</th><th>Platform</th><th>Status</th><th>Data through</th><th>Data as of</th><th>Attribution</th><th>Final</th></tr>
  {% for s in r.sources %}
  <tr><td>{{ s.name }}</td><td>{{ s.platform_label }}</td><td>{{ s.status }}</td><td>{{ s.data_through|date if s.data_through else "n/a" }}</td>
      <td>{{ s.data_as_of|stamp }}</td><td>{{ s.attribution_windows|join(", ") or "n/a" }}</td><td>{{ "yes" if s.final else "not yet" }}</td></tr>
  {% endfor %}
</table>
{% endif %}
</body>
</html>
"""
