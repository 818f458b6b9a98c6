"""Security posture: the playbook's controls with their evidence and the grade they add up to
(slo_definitions/controls.yaml), the checks against the written policy (slo_definitions/security.yaml), the
audit evidence and the penetration-test and vulnerability findings."""

import streamlit as st

from app import ui
from app.controls import view as controls_view
from app.controls.status import worst_first
from app.ui import charts

ctx = ui.page_setup("security")


@ui.live(ctx)
def body() -> None:
    tr = ctx.time_range()
    view = controls_view.load(ctx.sources, tr)
    ui.show_problems(view.problems, ctx.sources.now())
    if view.definition_errors:
        st.error(
            "The security controls file is invalid:\n\n"
            + "\n".join(f"- {ui.plain(p)}" for p in view.definition_errors)
        )
    st.caption(
        f"Controls and checks judged at {tr.end:%d %b %H:%M} UTC; sign-ins and the audit log over the "
        f"{tr.label.lower()}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC, against the written "
        "controls and security policy.",
        help="Declared in the repository: slo_definitions/controls.yaml and slo_definitions/security.yaml.",
    )
    posture(view)
    controls, checks, audit, findings = st.tabs(["Controls", "Checks", "Audit evidence", "Findings"])
    with controls:
        controls_tab(view)
    with checks:
        checks_tab(view)
    with audit:
        audit_tab(view)
    with findings:
        findings_tab(view)


def posture(view: controls_view.ControlsView) -> None:
    """The grade in one word, and one click later, why."""
    grade = view.grade
    with st.container(border=True):
        word, why = st.columns([1, 3])
        with word:
            st.metric("Security posture", grade.word)
            ui.state_badge(grade.state)
        with why:
            st.markdown(ui.plain(grade.summary))
            with st.popover(f"Why {grade.word.lower()}?", icon=":material/info:"):
                st.markdown(
                    "**Weak**: a control is failing. **Unknown**: half the controls or more have no "
                    "evidence. **Fair**: some are stale or without evidence. **Strong**: every control is "
                    "met."
                )
                for status in grade.not_met:
                    st.markdown(
                        f"- **{ui.plain(status.control.title)}** ({status.status}): {ui.plain(status.reason)}"
                    )
                if not grade.not_met and grade.counts["met"]:
                    st.markdown("Every control is met.")


def controls_tab(view: controls_view.ControlsView) -> None:
    if not view.statuses:
        st.caption("No control to show: the controls file could not be read.")
        return
    ui.table(  # every column within 1440 px, long text wrapped, every row shown, the status coloured
        controls_view.controls_table(view.statuses),
        empty="No control to show.",
        states=["status"],
        wrap=True,
        placeholder=ui.MISSING,
        columns={
            "status": st.column_config.TextColumn("Status", width=80),
            "control": st.column_config.TextColumn("Control", width=190),
            "area": st.column_config.TextColumn("Area", width=120),
            "owner": st.column_config.TextColumn("Owner", width=115),
            "evidence": st.column_config.TextColumn("Evidence now", width=170),
            "last_reviewed": st.column_config.DateColumn("Last reviewed", format="D MMM YYYY", width=95),
            "review_due": st.column_config.DateColumn("Review due", format="D MMM YYYY", width=95),
            "link": st.column_config.LinkColumn(
                "Evidence", display_text="open", help="— : the control names no evidence link", width=70
            ),
        },
    )
    # By title, worst first (the default, with no parameter); the URL keeps the control's id.
    titles = {s.control.id: s.control.title for s in worst_first(view.statuses)}
    picked = ui.named_url_picker("Evidence of control", titles, "control")
    status = view.status(picked)
    control = status.control
    st.markdown(f"**{ui.plain(control.title)}** · owner {ui.plain(control.owner)}")
    ui.state_badge(status.status)
    st.write(ui.plain(status.reason))
    st.caption(f"Playbook: {ui.plain(control.playbook)}")
    for evidence in status.evidence:
        if evidence.reason == status.reason and len(evidence.items) <= 1:
            continue  # the control's one piece of evidence: its reason is the sentence above
        st.markdown(
            f"{ui.state_icon(controls_view.EVIDENCE_STATES[evidence.state])} {ui.plain(evidence.reason)}"
        )
        if len(evidence.items) > 1:
            st.dataframe(
                evidence.items[["item", "shown", "limit", "passes"]],
                hide_index=True,
                column_config={"item": "Item", "shown": "Now", "limit": "Limit", "passes": "Within"},
            )
    if not status.evidence:
        st.caption("No live evidence: the control rests on its written evidence and its review.")


def checks_tab(view: controls_view.ControlsView) -> None:
    posture = view.posture
    if posture is None:
        st.caption("The checks could not be loaded in time.")
        return
    if posture.policy_errors:
        st.error(
            "The security policy is invalid:\n\n"
            + "\n".join(f"- {ui.plain(p)}" for p in posture.policy_errors)
        )
        return
    for column, check in zip(st.columns(len(posture.checks)), posture.checks, strict=True):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{check.name}**")
            ui.state_badge(check.state)
            st.metric(check.name, check.value, label_visibility="collapsed")
            if check.label:
                st.markdown(f"**{ui.plain(check.label)}**")
            st.write(ui.plain(check.reason))
            st.caption(ui.plain(check.policy))

    secrets, backups, logins, audit = posture.checks
    left, right = st.columns(2)
    with left:
        st.subheader("Secrets")
        ui.table(
            secrets.detail,
            {
                "secret": "Secret",
                "last_rotated": st.column_config.DatetimeColumn("Last rotated", format="D MMM YYYY"),
                "age_days": st.column_config.NumberColumn("Age", format="%.0f days"),
                "days_left": st.column_config.NumberColumn(
                    "Days left", format="%.0f", help="Days until the rotation limit; negative: overdue"
                ),
                "state": "State",
            },
            empty=ui.plain(secrets.reason),
        )
    with right:
        st.subheader("Backups")
        backup_rows = backups.detail
        if not backup_rows.empty:  # ages in minutes, as their limits are written
            backup_rows = backup_rows.assign(
                age_min=backup_rows["age_s"] / 60, max_age_min=backup_rows["max_age_s"] / 60
            ).drop(columns=["age_s", "max_age_s"], errors="ignore")
        ui.table(
            backup_rows,
            {
                "target": "Target",
                "last_success": st.column_config.DatetimeColumn("Last success", format="D MMM HH:mm"),
                "age_min": st.column_config.NumberColumn("Age", format="%.0f min"),
                "max_age_min": st.column_config.NumberColumn("Limit", format="%.0f min"),
                "state": "State",
            },
            empty=ui.plain(backups.reason),
            column_order=["target", "last_success", "age_min", "max_age_min", "state"],
        )

    left, right = st.columns(2)
    with left:
        st.subheader("Sign-ins")
        st.altair_chart(
            charts.timeseries(posture.failed_logins, title="Failed sign-ins per minute", unit="count")
        )
        st.markdown("**Addresses with the most failed sign-ins**")
        ui.table(
            logins.detail,
            {
                "source_ip": "Source address",
                "failures": st.column_config.NumberColumn("Failed sign-ins", format="%d"),
                "first": st.column_config.DatetimeColumn("First", format="ddd D MMM HH:mm"),
                "last": st.column_config.DatetimeColumn("Last", format="ddd D MMM HH:mm"),
                "tenants": st.column_config.NumberColumn("Client firms tried", format="%d"),
            },
            empty="Not known: the audit log could not be read."
            if audit.state == "no data"
            else "No failed sign-in in this range.",
        )
    with right:
        st.subheader("Audit log")
        ui.table(
            audit.detail,
            {
                "action": "Action",
                "outcome": "Outcome",
                "count": st.column_config.NumberColumn("Events", format="%d"),
            },
            empty=ui.plain(audit.reason),
        )
        ui.page_link(
            "logs", "The events themselves, on the Logs page", ":material/receipt_long:", tab="Audit events"
        )


def audit_tab(view: controls_view.ControlsView) -> None:
    evidence = view.audit
    if evidence is None:
        st.caption("Not known: the audit log could not be read.")
        return
    st.caption(ui.plain(controls_view.audit_caption(evidence)))
    st.dataframe(
        evidence.counts,
        hide_index=True,
        placeholder="",  # "Without approval" is empty for the actions that need none (its tooltip)
        column_config={
            "action": "Action",
            "count": st.column_config.NumberColumn("Events", format="%d"),
            "expected": st.column_config.NumberColumn(
                "Expected", format="%.1f", help="Mean of the same window in the weeks before"
            ),
            "verdict": "Against the weeks before",
            "unapproved": st.column_config.NumberColumn(
                "Without approval", format="%d", help="Only for actions that need an admin's approval"
            ),
        },
    )
    st.subheader("Anomalies: who and when")
    ui.table(
        evidence.anomalies,
        {
            "action": "Action",
            "verdict": "Verdict",
            "who": "Who (actor or address)",
            "events": st.column_config.NumberColumn("Events", format="%d"),
            "first": st.column_config.DatetimeColumn("First", format="ddd D MMM HH:mm"),
            "last": st.column_config.DatetimeColumn("Last", format="ddd D MMM HH:mm"),
        },
        empty="No kind of action is unusual in this range.",
    )
    st.subheader("Done without the approval they need")
    approval = ui.plain(", ".join(evidence.needs_approval) or "action")  # action names from the policy file
    ui.table(
        evidence.unapproved,
        {
            "time": st.column_config.DatetimeColumn("When", format="ddd D MMM HH:mm"),
            "action": "Action",
            "actor": "Who",
            "tenant": "Client firm",
            "source_ip": "Address",
            "details": "Details (personal data masked)",
        },
        empty=f"Every {approval} in this range had an admin's approval on record.",
    )


def findings_tab(view: controls_view.ControlsView) -> None:
    found = view.findings
    if found is None:
        st.caption("Not known: the findings could not be read.")
        return
    st.write(ui.plain(controls_view.pentest_line(found)))
    for column, (severity, count) in zip(st.columns(4), found.by_severity().items(), strict=True):
        column.metric(f"Open {severity}", count, border=True)
    st.dataframe(
        found.open,
        hide_index=True,
        column_config={
            "id": "Finding",
            "severity": "Severity",
            "title": "Title",
            "service": "Service",
            "source": "Found by",
            "found": st.column_config.DateColumn("Found", format="D MMM YYYY"),
            "age_days": st.column_config.NumberColumn("Age", format="%.0f days"),
            "fix_by": st.column_config.DateColumn("Fix by", format="D MMM YYYY"),
            "overdue_days": st.column_config.NumberColumn("Overdue", format="%.0f days"),
            "status": "Status",
        },
    )


body()
