"""Lints and renders the chart with Helm's own Go code (helm-python-sdk).

Reads a JSON request on stdin:
  {"chart": path, "release": name, "namespace": ns, "cases": {case: values}}
and writes a JSON report on stdout:
  {"lint": {case: report}, "renders": {case: {"ok": {template: text}} | {"error": text}},
   "crds": [text]}
"""

import json
import sys

import helm_python as helm


def main() -> None:
    request = json.load(sys.stdin)
    chart_path = request["chart"]
    report = {"lint": {}, "renders": {}, "crds": []}
    with helm.Chart.load(chart_path) as chart:
        report["crds"] = [crd["data"] for crd in chart.crds]
        for case, values in request["cases"].items():
            report["lint"][case] = helm.lint(
                chart_path, values, strict=True, namespace=request["namespace"]
            )
            try:
                rendered = chart.render(
                    values, name=request["release"], namespace=request["namespace"]
                )
                report["renders"][case] = {"ok": rendered}
            except helm.HelmError as error:
                report["renders"][case] = {"error": str(error)}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
