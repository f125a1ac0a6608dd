"""The documents that describe the template stay true to it: the diagram, the security table,
the cost arithmetic and the size figures."""

import json
import re
import subprocess

from tests.support.servers import ROOT
from tests.template.cfn import TEMPLATE_PATH, Json

DOCS = ROOT / "docs"
TEMPLATE_BODY_LIMIT = 51_200


def test_architecture_diagram_is_drawn_from_the_current_template() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "diagram.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def security_rows() -> list[tuple[str, str, str]]:
    section = (DOCS / "security.md").read_text().split("## FSBP", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(
        r"^\| ([A-Za-z0-9]+\.\d+) \| .+? \| (pass|exception) \| (.+) \|$", section, re.MULTILINE
    )
    return [(control, result, why) for control, result, why in rows]


def test_security_headline_counts_the_table() -> None:
    rows = security_rows()
    headline = re.search(
        r"^## FSBP controls: (\d+) of (\d+) pass$", (DOCS / "security.md").read_text(), re.MULTILINE
    )
    assert headline, "the headline says N of M pass"
    passing = sum(result == "pass" for _, result, _ in rows)
    assert (int(headline[1]), int(headline[2])) == (passing, len(rows))
    assert len({control for control, _, _ in rows}) == len(rows), "each control once"


def test_every_security_exception_gives_its_reason() -> None:
    for control, result, why in security_rows():
        if result == "exception":
            assert len(why.split()) >= 6, control


def cost_tables() -> list[tuple[list[float], float]]:
    """(line amounts, stated total) for each table that has a total row."""
    tables = []
    for block in (DOCS / "cost.md").read_text().split("\n\n"):
        amounts = [float(a) for a in re.findall(r"^\|.*\| (\d+\.\d\d) \|$", block, re.MULTILINE)]
        total = re.search(r"^\| \*\*total\*\* \|.*\| \*\*(\d+\.\d\d)\*\* \|$", block, re.MULTILINE)
        if total:
            tables.append((amounts, float(total[1])))
    return tables


def test_cost_tables_add_up() -> None:
    tables = cost_tables()
    assert len(tables) == 2, "the default stack and the original design"
    for amounts, total in tables:
        assert round(sum(amounts), 2) == total


def test_template_size_figures_in_the_architecture_doc_are_current(template: Json) -> None:
    raw = len(TEMPLATE_PATH.read_bytes())
    minified = len(json.dumps(template, separators=(",", ":")).encode())
    text = (DOCS / "architecture.md").read_text()
    stated = re.search(r"about (\d+) KB as written and about (\d+) KB minified", text)
    assert stated
    assert abs(int(stated[1]) * 1000 - raw) <= 3000
    assert abs(int(stated[2]) * 1000 - minified) <= 3000
    # The doc says the CLI must go through TemplateURL: true only while this holds.
    assert minified > TEMPLATE_BODY_LIMIT


def test_fleet_costs_at_min_and_max_follow_the_default_stack_and_the_template(
    template: Json,
) -> None:
    text = (DOCS / "cost.md").read_text()
    default_total = cost_tables()[0][1]
    params = template["Parameters"]
    low, high = params["MinSize"]["Default"], params["MaxSize"]["Default"]
    at_min = re.search(
        rf"^\| fleet at `MinSize` \({low}, the default\) \| (\d+\.\d\d) \|$", text, re.M
    )
    at_max = re.search(rf"^\| fleet at `MaxSize` \({high}\): .* \| (\d+\.\d\d) \|$", text, re.M)
    each = re.search(r"^\| each instance more or less \| ± (\d+\.\d\d) \|$", text, re.M)
    parts = re.search(r"An instance is ([^=]+) = ([\d.]+) USD", text)
    assert at_min and at_max and each and parts
    instance = float(each[1])
    assert float(parts[2]) == instance
    assert round(sum(float(p) for p in re.findall(r"(\d+\.\d+) \(", parts[1])), 2) == instance
    assert float(at_min[1]) == default_total
    assert float(at_max[1]) == round(default_total + (high - low) * instance, 2)


def test_cost_doc_uses_the_cli_price_table_and_its_date() -> None:
    """The CLI's estimates (src/cloudsite/prices.py) and docs/cost.md are one set of prices."""
    from cloudsite import prices

    text = (DOCS / "cost.md").read_text()
    assert f"recorded {prices.RECORDED}" in text
    default = text.split("## The default stack")[1].split("## ")[0]
    unit_prices = {
        "Application Load Balancer, hours": f"{prices.ALB_HOURLY} / hour",
        "Application Load Balancer, capacity": f"{prices.ALB_LCU_HOURLY} / LCU-hour",
        "EC2 `t3.small`, on demand": f"{prices.EC2_HOURLY['t3.small']} / hour",
        "EBS gp3 root volumes": f"{prices.EBS_GP3_GB_MONTH} / GB-month",
        "Public IPv4 addresses": f"{prices.PUBLIC_IPV4_HOURLY} / hour",
        "CloudWatch alarms": f"{prices.CLOUDWATCH_ALARM_MONTH:.2f} / alarm-month",
        "Secrets Manager (`DJANGO_SECRET_KEY`)": f"{prices.SECRET_MONTH:.2f} / secret-month",
    }
    for item, price in unit_prices.items():
        assert f"| {item} | {price} |" in default, item
