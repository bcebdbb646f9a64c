"""The static schema diff on realistic module pairs written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.addons.changes import Change
from gitops.addons.diff import AddonsDiff, diff_addons
from tests.fixtures.addons import models_file, write_addon

PARTNER_V1 = """
class Visit(models.Model):
    _name = "crm.visit"
    _description = "Customer visit"
    _order = "date desc"

    name = fields.Char(required=True)
    date = fields.Date(default=fields.Date.today)
    partner_id = fields.Many2one("res.partner", string="Customer", ondelete="restrict", index=True)
    duration = fields.Float(compute="_compute_duration")
    partner_city = fields.Char(related="partner_id.city")
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft", required=True)
    notes = fields.Text()
    reference = fields.Char()
    tag_ids = fields.Many2many("crm.tag", "crm_visit_tag_rel", "visit_id", "tag_id")
    rating = fields.Integer()

    @api.depends("date")
    def _compute_duration(self):
        for visit in self:
            visit.duration = 1.0
"""


def _diff(tmp_path: Path, old: dict[str, dict], new: dict[str, dict], **kwargs) -> AddonsDiff:
    for side, modules in (("old", old), ("new", new)):
        (tmp_path / side).mkdir(parents=True, exist_ok=True)
        for name, spec in modules.items():
            write_addon(tmp_path / side, name, **spec)
    return diff_addons([tmp_path / "old"], [tmp_path / "new"], **kwargs)


def _module(source: str, version: str = "17.0.1.0.0", **extra) -> dict:
    files = {**models_file(source), **extra.pop("files", {})}
    return {"version": version, "files": files, "depends": extra.pop("depends", ["base", "crm"]), **extra}


def _find(diff: AddonsDiff, kind: str, field: str | None = None, module: str | None = None) -> Change:
    found = [
        c
        for c in diff.changes
        if c.kind == kind and (field is None or c.field == field) and (module is None or c.module == module)
    ]
    assert len(found) == 1, f"{kind}/{field}: {[c.to_dict() for c in diff.changes]}"
    return found[0]


def _kinds(diff: AddonsDiff) -> set[tuple[str, str | None, str]]:
    return {(c.kind, c.field, c.severity) for c in diff.changes}


def _edit(source: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


POST_SCRIPT = {"migrations/17.0.1.1.0/post-migrate.py": "def migrate(cr, version):\n    pass\n"}


def test_identical_trees_are_standard_with_no_changes(tmp_path: Path) -> None:
    spec = {"visit": _module(PARTNER_V1)}
    diff = _diff(tmp_path, spec, spec)
    assert diff.changes == () and diff.errors == ()
    assert diff.change_class == "standard" and not diff.destructive
    assert diff.modules_changed == ()


def test_code_only_change_is_standard(tmp_path: Path) -> None:
    new = _edit(PARTNER_V1, ("visit.duration = 1.0", "visit.duration = 2.0"))
    diff = _diff(tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new)})
    assert diff.modules_changed == ("visit",)
    assert diff.changes == ()
    assert diff.change_class == "standard"
    assert diff.errors == ()


@pytest.mark.parametrize(
    ("replacement", "kind", "field", "severity", "before", "after"),
    [
        (
            (
                "    rating = fields.Integer()\n",
                "    rating = fields.Integer()\n    score = fields.Float(digits=(16, 2))\n",
            ),
            "field_added",
            "score",
            "schema",
            None,
            "float",
        ),
        (
            (
                '    duration = fields.Float(compute="_compute_duration")',
                '    duration = fields.Float(compute="_compute_duration", store=True)',
            ),
            "field_store",
            "duration",
            "schema",
            False,
            True,
        ),
        (
            ('related="partner_id.city")', 'related="partner_id.city", store=True)'),
            "field_store",
            "partner_city",
            "schema",
            False,
            True,
        ),
        (
            ("    notes = fields.Text()", "    notes = fields.Text(translate=True)"),
            "field_translate",
            "notes",
            "schema",
            False,
            True,
        ),
        (
            ("    reference = fields.Char()", '    reference = fields.Char(index="trigram")'),
            "field_index",
            "reference",
            "schema",
            False,
            "trigram",
        ),
        (
            ("    reference = fields.Char()", '    reference = fields.Char(required=True, default="/")'),
            "field_required",
            "reference",
            "schema",
            False,
            True,
        ),
        (
            ("    reference = fields.Char()", "    reference = fields.Char(required=True)"),
            "field_required",
            "reference",
            "destructive",
            False,
            True,
        ),
        (
            ("    name = fields.Char(required=True)", "    name = fields.Char()"),
            "field_required",
            "name",
            "schema",
            True,
            False,
        ),
        (
            ("    reference = fields.Char()", "    reference = fields.Text()"),
            "field_type",
            "reference",
            "schema",
            "char",
            "text",
        ),
        (
            ("    reference = fields.Char()", "    reference = fields.Integer()"),
            "field_type",
            "reference",
            "destructive",
            "char",
            "integer",
        ),
        (
            ("    rating = fields.Integer()", "    rating = fields.Float()"),
            "field_type",
            "rating",
            "schema",
            "integer",
            "float",
        ),
        (
            ('("done", "Done")]', '("done", "Done"), ("cancel", "Cancelled")]'),
            "field_selection",
            "state",
            "info",
            ("done", "draft"),
            ("cancel", "done", "draft"),
        ),
        (
            ('("done", "Done")]', '("cancel", "Cancelled")]'),
            "field_selection",
            "state",
            "destructive",
            ("done", "draft"),
            ("cancel", "draft"),
        ),
        (
            ('Many2one("res.partner"', 'Many2one("res.users"'),
            "field_comodel",
            "partner_id",
            "destructive",
            "res.partner",
            "res.users",
        ),
        (
            ('ondelete="restrict"', 'ondelete="cascade"'),
            "field_ondelete",
            "partner_id",
            "schema",
            "restrict",
            "cascade",
        ),
        (
            ('"crm_visit_tag_rel", "visit_id"', '"crm_visit_tag_link", "visit_id"'),
            "field_relation",
            "tag_ids",
            "destructive",
            ("crm_visit_tag_rel", "visit_id", "tag_id"),
            ("crm_visit_tag_link", "visit_id", "tag_id"),
        ),
        (("    notes = fields.Text()\n", ""), "field_removed", "notes", "destructive", "text", None),
        (
            ('    duration = fields.Float(compute="_compute_duration")\n', ""),
            "field_removed",
            "duration",
            "info",
            "float",
            None,
        ),
    ],
)
def test_field_signals(tmp_path: Path, replacement, kind, field, severity, before, after) -> None:
    new = _edit(PARTNER_V1, replacement)
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=POST_SCRIPT)}
    )
    change = _find(diff, kind, field)
    assert (change.severity, change.before, change.after) == (severity, before, after)
    assert change.model == "crm.visit" and change.module == "visit"
    assert change.file is not None and change.file.endswith("models/models.py") and change.line > 1
    assert diff.change_class == ("standard" if severity == "info" else "normal")
    assert diff.destructive is (severity == "destructive")
    assert diff.errors == ()


@pytest.mark.parametrize(
    ("series", "store_change"), [("17.0", ("field_store", "rating", "destructive")), ("18.0", None)]
)
def test_company_dependent_per_series(tmp_path: Path, series: str, store_change) -> None:
    new = _edit(
        PARTNER_V1, ("    rating = fields.Integer()", "    rating = fields.Integer(company_dependent=True)")
    )
    old_spec = _module(PARTNER_V1, f"{series}.1.0.0")
    new_spec = _module(new, f"{series}.1.1.0", files={f"migrations/{series}.1.1.0/post-x.py": "# x\n"})
    diff = _diff(tmp_path, {"visit": old_spec}, {"visit": new_spec})
    assert _find(diff, "field_company_dependent", "rating").severity == "schema"
    stores = {(c.kind, c.field, c.severity) for c in diff.changes if c.kind == "field_store"}
    assert stores == ({store_change} if store_change else set())


def test_renamed_field_is_remove_plus_add_flagged_destructive(tmp_path: Path) -> None:
    new = _edit(PARTNER_V1, ("    reference = fields.Char()", "    ref_code = fields.Char()"))
    diff = _diff(tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0")})
    removed, added = _find(diff, "field_removed", "reference"), _find(diff, "field_added", "ref_code")
    assert removed.severity == "destructive" and added.severity == "schema"
    assert "ref_code" in removed.message
    assert diff.destructive
    assert [e.rule for e in diff.errors] == ["destructive_without_migration"]
    assert "crm.visit.reference" in diff.errors[0].message


def test_rename_with_a_pre_migration_script_passes(tmp_path: Path) -> None:
    new = _edit(PARTNER_V1, ("    reference = fields.Char()", "    ref_code = fields.Char()"))
    script = {"migrations/1.1.0/pre-rename.py": "def migrate(cr, version):\n    cr.execute('...')\n"}
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=script)}
    )
    assert diff.errors == ()
    assert [(s.module, s.stage, s.path, s.version) for s in diff.migration_scripts] == [
        ("visit", "pre", "migrations/1.1.0/pre-rename.py", "17.0.1.1.0")
    ]


def test_models_added_and_removed(tmp_path: Path) -> None:
    extra = """
class Route(models.Model):
    _name = "crm.visit.route"
    _description = "Route"
    name = fields.Char()


class Planner(models.AbstractModel):
    _name = "crm.visit.planner"
    _description = "Mixin"
    planned = fields.Boolean()


class Wizard(models.TransientModel):
    _name = "crm.visit.wizard"
    _description = "Wizard"
"""
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1 + extra)}, {"visit": _module(PARTNER_V1, "17.0.1.1.0")}
    )
    assert {(c.model, c.severity) for c in diff.changes if c.kind == "model_removed"} == {
        ("crm.visit.route", "destructive"),
        ("crm.visit.planner", "info"),
        ("crm.visit.wizard", "schema"),
    }
    back = _diff(
        tmp_path / "back",
        {"visit": _module(PARTNER_V1)},
        {"visit": _module(PARTNER_V1 + extra, "17.0.1.1.0")},
    )
    assert {(c.model, c.severity) for c in back.changes if c.kind == "model_added"} == {
        ("crm.visit.route", "schema"),
        ("crm.visit.planner", "info"),
        ("crm.visit.wizard", "schema"),
    }
    assert {tuple(c.after) for c in back.changes if c.model == "crm.visit.route"} == {("name",)}
    assert back.errors == () and not back.destructive


def test_sql_constraints_and_odoo19_constraints_and_indexes(tmp_path: Path) -> None:
    old = _edit(
        PARTNER_V1,
        (
            '    _order = "date desc"\n',
            '    _order = "date desc"\n    _sql_constraints = [("name_uniq", "unique(name)", "!")]\n',
        ),
    )
    new = _edit(
        PARTNER_V1,
        (
            '    _order = "date desc"\n',
            '    _order = "date desc"\n'
            '    _name_uniq = models.Constraint("UNIQUE(name, partner_id)", "Unique!")\n'
            '    _date_idx = models.Index("(date, state)")\n'
            '    _ref_uidx = models.UniqueIndex("(reference) WHERE reference IS NOT NULL")\n',
        ),
    )
    diff = _diff(tmp_path, {"visit": _module(old, "19.0.1.0.0")}, {"visit": _module(new, "19.0.1.1.0")})
    assert _kinds(diff) == {
        ("constraint_removed", "sql:name_uniq", "schema"),
        ("constraint_added", "_name_uniq", "schema"),
        ("constraint_added", "_date_idx", "schema"),
        ("constraint_added", "_ref_uidx", "schema"),
        ("version", None, "info"),
    }
    assert _find(diff, "constraint_added", "_date_idx").after == "Index('(date, state)')"
    assert diff.series == "19.0"


def test_model_attributes(tmp_path: Path) -> None:
    new = _edit(
        PARTNER_V1,
        (
            '    _order = "date desc"\n',
            '    _order = "date desc"\n    _parent_store = True\n    _table = "visit_tbl"\n',
        ),
    )
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=POST_SCRIPT)}
    )
    assert _find(diff, "model_attribute", "_parent_store").severity == "schema"
    assert _find(diff, "model_attribute", "_table").severity == "destructive"


def test_inherited_model_across_modules_compares_merged_fields(tmp_path: Path) -> None:
    extension_v1 = """
class Visit(models.Model):
    _inherit = "crm.visit"
    zone = fields.Char()
"""
    extension_v2 = """
class Visit(models.Model):
    _inherit = "crm.visit"
    zone = fields.Char()
    duration = fields.Float(store=True)
    partner_city = fields.Char(store=True, index=True)
    rating = fields.Integer(required=True)
    extra_id = fields.Many2one("res.partner")
"""
    old = {"visit": _module(PARTNER_V1), "visit_zone": _module(extension_v1, depends=["visit"])}
    new = {"visit": _module(PARTNER_V1), "visit_zone": _module(extension_v2, "17.0.1.1.0", depends=["visit"])}
    diff = _diff(tmp_path, old, new)
    assert diff.modules_changed == ("visit_zone",)
    store = _find(diff, "field_store", "duration")
    assert (store.module, store.model, store.severity, store.before, store.after) == (
        "visit_zone",
        "crm.visit",
        "schema",
        False,
        True,
    )
    assert _find(diff, "field_store", "partner_city").severity == "schema"
    assert _find(diff, "field_index", "partner_city").severity == "schema"
    assert _find(diff, "field_required", "rating").severity == "destructive"
    assert _find(diff, "field_added", "extra_id").severity == "schema"
    assert not any(c.kind == "field_added" and c.field in {"duration", "rating"} for c in diff.changes)
    assert [e.rule for e in diff.errors] == ["destructive_without_migration"]


def test_extension_of_a_core_model(tmp_path: Path) -> None:
    v1 = 'class Partner(models.Model):\n    _inherit = "res.partner"\n    visit_count = fields.Integer()\n'
    v2 = (
        'class Partner(models.Model):\n    _inherit = ["res.partner"]\n'
        "    vip = fields.Boolean(default=False)\n"
    )
    diff = _diff(tmp_path, {"p": _module(v1)}, {"p": _module(v2, "17.0.1.1.0")})
    assert _kinds(diff) >= {("field_removed", "visit_count", "destructive"), ("field_added", "vip", "schema")}
    assert {c.model for c in diff.changes if c.model} == {"res.partner"}


def test_syntax_error_in_one_module_fails_closed(tmp_path: Path) -> None:
    broken = PARTNER_V1 + "\n\ndef oops(:\n    pass\n"
    old = {"visit": _module(PARTNER_V1), "other": _module("class A(models.Model):\n    _name = 'a.a'\n")}
    new = {
        "visit": _module(broken),
        "other": _module("class A(models.Model):\n    _name = 'a.a'\n", "17.0.1.0.1"),
    }
    diff = _diff(tmp_path, old, new)
    change = _find(diff, "unparsable")
    assert change.module == "visit" and change.severity == "schema"
    assert change.file is not None and change.file.endswith("visit/models/models.py")
    lines = Path(change.file).read_text().splitlines()
    assert lines[change.line - 1] == "def oops(:"
    assert diff.change_class == "normal"
    assert [(e.rule, e.module) for e in diff.errors] == [("schema_change_without_version_bump", "visit")]


def test_only_modules_whose_checksum_changed_are_parsed(tmp_path: Path) -> None:
    broken = {"visit": _module(PARTNER_V1 + "\ndef oops(:\n")}
    diff = _diff(tmp_path, broken, broken)
    assert diff.modules_changed == () and diff.changes == ()
    # a test-only or static-only edit keeps the checksum, so nothing is parsed either
    with_tests = {"visit": _module(PARTNER_V1 + "\ndef oops(:\n", files={"tests/test_x.py": "x = 2\n"})}
    diff = _diff(tmp_path / "b", broken, with_tests)
    assert diff.modules_changed == ()


def test_manifest_signals(tmp_path: Path) -> None:
    data_v1 = {
        "data/a.xml": '<odoo>\n  <data noupdate="1"><record id="a" model="x"/></data>\n</odoo>\n',
        "data/b.xml": "<odoo/>\n",
    }
    data_v2 = {
        "data/a.xml": '<odoo>\n  <data noupdate="0"><record id="a" model="x"/></data>\n</odoo>\n',
        "data/c.xml": "<odoo/>\n",
    }
    old = {
        "visit": _module(
            PARTNER_V1,
            depends=["base", "crm"],
            files=data_v1,
            data=["data/a.xml", "data/b.xml"],
            external_dependencies={"python": ["requests"]},
        )
    }
    new = {
        "visit": _module(
            PARTNER_V1,
            "17.0.1.0.1",
            depends=["base", "crm", "mail"],
            files=data_v2,
            data=["data/a.xml", "data/c.xml"],
            external_dependencies={"python": ["requests", "phonenumbers"]},
        )
    }
    diff = _diff(tmp_path, old, new)
    assert _find(diff, "depends").after == ["base", "crm", "mail"]
    assert _find(diff, "depends").line == 5
    assert _find(diff, "external_dependencies").after == {"python": ["phonenumbers", "requests"]}
    assert _find(diff, "data_file_added").after == "data/c.xml"
    assert _find(diff, "data_file_removed").before == "data/b.xml"
    noupdate = _find(diff, "noupdate", "data/a.xml")
    assert (noupdate.before, noupdate.after) == (("1",), ("0",))
    assert _find(diff, "version").after == "17.0.1.0.1"
    assert diff.change_class == "standard" and diff.errors == ()


def test_modules_added_and_removed(tmp_path: Path) -> None:
    old = {"visit": _module(PARTNER_V1), "legacy": _module("")}
    new = {
        "visit": _module(PARTNER_V1),
        "route": _module('class R(models.Model):\n    _name = "r.r"\n    n = fields.Char()\n'),
    }
    diff = _diff(tmp_path, old, new)
    assert (diff.modules_added, diff.modules_removed, diff.modules_changed) == (("route",), ("legacy",), ())
    assert _find(diff, "module_removed").severity == "schema"
    assert _find(diff, "model_added").model == "r.r"
    assert diff.modules["route"].before is None and diff.modules["route"].after is not None
    assert diff.errors == ()


def test_migrations_folder_above_manifest_is_an_error(tmp_path: Path) -> None:
    files = {
        "migrations/17.0.2.0.0/post-x.py": "def migrate(cr, v):\n    pass\n",
        "upgrades/1.0.1/end-y.py": "def migrate(cr, v):\n    pass\n",
    }
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(PARTNER_V1, "17.0.1.0.1", files=files)}
    )
    assert [(e.rule, e.file.rsplit("/", 2)[-2:]) for e in diff.errors] == [
        ("migrations_above_manifest", ["migrations", "17.0.2.0.0"])
    ]
    assert [s.path for s in diff.migration_scripts] == ["upgrades/1.0.1/end-y.py"]


def test_migration_scripts_for_the_new_version_only(tmp_path: Path) -> None:
    files = {
        "migrations/1.0.0/pre-old.py": "# ran already\n",
        "migrations/17.0.1.1.0/pre-a.py": "# a\n",
        "migrations/17.0.1.1.0/post-b.py": "# b\n",
        "migrations/17.0.1.1.0/helper.py": "# not a stage script\n",
        "migrations/0.0.0/end-always.py": "# any upgrade\n",
        "upgrades/1.1.0/post-c.py": "# c\n",
    }
    new = _edit(PARTNER_V1, ("    notes = fields.Text()\n", ""))
    diff = _diff(tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=files)})
    assert [(s.path, s.stage) for s in diff.migration_scripts] == [
        ("migrations/0.0.0/end-always.py", "end"),
        ("migrations/17.0.1.1.0/post-b.py", "post"),
        ("migrations/17.0.1.1.0/pre-a.py", "pre"),
        ("upgrades/1.1.0/post-c.py", "post"),
    ]
    assert diff.errors == ()


def test_version_downgrade_is_an_error(tmp_path: Path) -> None:
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1, "17.0.1.2.0")}, {"visit": _module(PARTNER_V1, "17.0.1.1.0")}
    )
    assert [e.rule for e in diff.errors] == ["version_downgrade"]


def test_fingerprint_binds_schema_changes_and_scripts_not_line_numbers(tmp_path: Path) -> None:
    new = _edit(PARTNER_V1, ("    notes = fields.Text()\n", ""))
    script = "def migrate(cr, version):\n    pass\n"

    def fingerprint(where: str, source: str, script_text: str) -> str:
        files = {"migrations/17.0.1.1.0/pre-drop.py": script_text}
        return _diff(
            tmp_path / where,
            {"visit": _module(PARTNER_V1)},
            {"visit": _module(source, "17.0.1.1.0", files=files)},
        ).schema_fingerprint

    base = fingerprint("a", new, script)
    assert len(base) == 64
    assert fingerprint("b", "\n\n# moved down\n" + new, script) == base
    assert fingerprint("c", new, script + "# different\n") != base
    assert fingerprint("d", _edit(new, ("    rating = fields.Integer()\n", "")), script) != base


def test_dynamic_selection_fails_closed(tmp_path: Path) -> None:
    new = _edit(PARTNER_V1, ('[("draft", "Draft"), ("done", "Done")]', '"_selection_states"'))
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=POST_SCRIPT)}
    )
    change = _find(diff, "field_selection", "state")
    assert change.severity == "destructive"
    assert change.to_dict()["after"] == {"expr": "_selection_states"}


def test_to_dict_is_json_ready(tmp_path: Path) -> None:
    import json

    new = _edit(PARTNER_V1, ("    notes = fields.Text()\n", ""))
    diff = _diff(
        tmp_path, {"visit": _module(PARTNER_V1)}, {"visit": _module(new, "17.0.1.1.0", files=POST_SCRIPT)}
    )
    data = json.loads(json.dumps(diff.to_dict()))
    assert set(data) == {
        "series",
        "change_class",
        "destructive",
        "schema_fingerprint",
        "modules_added",
        "modules_removed",
        "modules_changed",
        "modules",
        "changes",
        "migration_scripts",
        "errors",
    }
    assert data["change_class"] == "normal" and data["destructive"] is True
    assert data["modules"]["visit"]["after"]["version"] == "17.0.1.1.0"


@pytest.mark.parametrize(
    ("old_body", "new_body", "expected"),
    [
        (
            "    _inherits = {}\n",
            '    _inherits = {"res.partner": "partner_id"}\n',
            ("model_attribute", "_inherits", "schema"),
        ),
        (
            '    _inherits = {"res.partner": "partner_id"}\n',
            "",
            ("model_attribute", "_inherits", "destructive"),
        ),
        ("    _auto = True\n", "    _auto = False\n", ("model_attribute", "_auto", "schema")),
        (
            "    photo = fields.Binary(attachment=False)\n",
            "    photo = fields.Binary()\n",
            ("field_attachment", "photo", "destructive"),
        ),
        ("    photo = fields.Image()\n", "    photo = fields.Image(max_width=128)\n", None),
        (
            "    ratio = fields.Float()\n",
            "    ratio = fields.Float(digits=(16, 4))\n",
            ("field_digits", "ratio", "schema"),
        ),
        ("    lines = fields.One2many('crm.visit', 'partner_id')\n", "", ("field_removed", "lines", "info")),
        ("    tags = fields.Many2many('crm.tag')\n", "", ("field_removed", "tags", "destructive")),
        (
            "    tags = fields.Many2many('crm.tag')\n",
            "    tags = fields.One2many('crm.tag', 'visit_id')\n",
            ("field_type", "tags", "destructive"),
        ),
        (
            "    tags = fields.One2many('crm.tag', 'visit_id')\n",
            "    tags = fields.Many2many('crm.tag')\n",
            ("field_type", "tags", "schema"),
        ),
        (
            "    p_id = fields.Many2one('res.partner')\n",
            "    p_id = fields.Many2one('res.partner', ondelete='set null')\n",
            None,
        ),
        (
            "    p_id = fields.Many2one('res.partner', required=True)\n",
            "    p_id = fields.Many2one('res.partner', required=True, ondelete='restrict')\n",
            None,
        ),
        ("    code = fields.Char()\n", "    code = fields.Json()\n", ("field_type", "code", "destructive")),
    ],
)
def test_model_and_field_attribute_details(tmp_path: Path, old_body: str, new_body: str, expected) -> None:
    head = 'class Extra(models.Model):\n    _name = "crm.visit.extra"\n    _description = "Extra"\n'
    diff = _diff(
        tmp_path,
        {"visit": _module(head + old_body)},
        {"visit": _module(head + new_body, "17.0.1.1.0", files=POST_SCRIPT)},
    )
    found = {(c.kind, c.field, c.severity) for c in diff.changes if c.kind != "version"}
    assert found == ({expected} if expected else set())


def test_models_inside_conditional_blocks_are_read(tmp_path: Path) -> None:
    old = "try:\n    import phonenumbers\nexcept ImportError:\n    phonenumbers = None\n"
    new = old + "if True:\n    class Cond(models.Model):\n        _name = 'c.c'\n        n = fields.Char()\n"
    diff = _diff(tmp_path, {"visit": _module(old)}, {"visit": _module(new, "17.0.1.1.0")})
    assert _find(diff, "model_added").model == "c.c"


def test_invalid_manifests_in_either_tree_are_all_reported(tmp_path: Path) -> None:
    from gitops.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        _diff(tmp_path, {"visit": _module(PARTNER_V1, "1.0")}, {"visit": _module(PARTNER_V1, "17.0.1")})
    assert [(Path(p.file).parts[-3], p.line) for p in exc.value.problems] == [("new", 4), ("old", 4)]
