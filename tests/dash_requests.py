"""Callback requests as Dash's renderer sends them, built from /_dash-dependencies."""

from __future__ import annotations

SHELL_VALUES = {"shell-lang": "zh", "shell-theme": "dark"}  # what the shell's stores hold


def callbacks(client, values: dict | None = None, default=None) -> list[dict]:
    """Every server-side callback as the browser would call it: inputs set from `values` by id
    (else `default`), states empty."""
    values = values or {}
    out = []
    for dep in client.get("/_dash-dependencies").json:
        if dep.get("clientside_function"):
            continue
        outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in dep["output"].strip(".").split("...")
        ]
        out.append(
            {
                "output": dep["output"],
                "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": [
                    {
                        "id": i["id"],
                        "property": i["property"],
                        "value": values.get(i["id"], default),
                    }
                    for i in dep["inputs"]
                ],
                "state": [
                    {"id": x["id"], "property": x["property"], "value": None} for x in dep["state"]
                ],
                "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
            }
        )
    return out


def callback(client, output: str, values: dict | None = None, default=None) -> dict:
    """The request of the callback whose outputs name `output` (an id, or id.property)."""
    return next(b for b in callbacks(client, values, default) if output in b["output"])


def route(client, path: str, search: str = ""):
    """What Dash's page router answers for a path (the page's layout, as the browser gets it)."""
    body = callback(client, "_pages_content")
    for i in body["inputs"]:
        if i["id"] == "_pages_location":
            i["value"] = path if i["property"] == "pathname" else search
    return client.post("/_dash-update-component", json=body)


def scoped(body: dict, district: str | None) -> dict:
    """The callback request with the overview's district (the page's scope store) set."""
    state = [dict(x, value=district) if x["id"] == "overview-scope" else x for x in body["state"]]
    return dict(body, state=state)


def call(client, output_part: str, trigger: str, values: dict):
    """Post the callback whose outputs name `output_part`, as the browser would after
    `trigger` changed, with inputs and states set from `values` ({"id.property": value})."""
    body = next(b for b in callbacks(client) if output_part in b["output"])
    for item in body["inputs"] + body["state"]:
        key = f"{item['id']}.{item['property']}"
        if key in values:
            item["value"] = values[key]
    body["changedPropIds"] = [trigger]
    return client.post("/_dash-update-component", json=body)
