"""Security posture: secrets rotation, backups, sign-ins and audit coverage against the written policy
(slo_definitions/security.yaml)."""

import streamlit as st

from app import security, ui
from app.ui import charts

ctx = ui.page_setup("security")


@ui.live(ctx)
def body() -> None:
    tr = ctx.time_range()
    view = security.load(ctx.sources, tr)
    ui.show_problems(view.problems, ctx.sources.now())
    if view.policy_errors:
        st.error(
            "The security policy is invalid:\n\n" + "\n".join(f"- {ui.plain(p)}" for p in view.policy_errors)
        )
        return
    st.caption(
        f"Secrets and backups now; sign-ins and the audit log over the {tr.label.lower()}: "
        f"{tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC. Policy: `slo_definitions/security.yaml`."
    )
    for column, check in zip(st.columns(len(view.checks)), view.checks, strict=True):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{check.name}**")
            ui.state_badge(check.state)
            st.metric(check.name, check.value, label_visibility="collapsed")
            if check.label:
                st.markdown(f"**{ui.plain(check.label)}**")
            st.write(ui.plain(check.reason))
            st.caption(ui.plain(check.policy))

    secrets, backups, logins, audit = view.checks
    left, right = st.columns(2)
    with left:
        st.subheader("Secrets")
        st.dataframe(
            secrets.detail,
            hide_index=True,
            column_config={
                "secret": "Secret",
                "last_rotated": st.column_config.DatetimeColumn("Last rotated", format="D MMM YYYY"),
                "age_days": st.column_config.NumberColumn("Age", format="%.0f days"),
                "days_left": st.column_config.NumberColumn(
                    "Days left", format="%.0f", help="Days until the rotation limit; negative: overdue"
                ),
                "state": "State",
            },
        )
    with right:
        st.subheader("Backups")
        st.dataframe(
            backups.detail.assign(
                age_min=backups.detail["age_s"] / 60 if not backups.detail.empty else None,
                max_age_min=backups.detail["max_age_s"] / 60 if not backups.detail.empty else None,
            ).drop(columns=["age_s", "max_age_s"], errors="ignore"),
            hide_index=True,
            column_order=["target", "last_success", "age_min", "max_age_min", "state"],
            column_config={
                "target": "Target",
                "last_success": st.column_config.DatetimeColumn("Last success", format="D MMM HH:mm"),
                "age_min": st.column_config.NumberColumn("Age", format="%.0f min"),
                "max_age_min": st.column_config.NumberColumn("Limit", format="%.0f min"),
                "state": "State",
            },
        )

    left, right = st.columns(2)
    with left:
        st.subheader("Sign-ins")
        st.altair_chart(
            charts.timeseries(view.failed_logins, title="Failed sign-ins per minute", unit="count")
        )
        st.markdown("**Addresses with the most failed sign-ins**")
        if logins.detail.empty:  # an empty table without headers says nothing: say why there is none
            st.caption(
                "Not known: the audit log could not be read."
                if audit.state == "no data"
                else "No failed sign-in in this range."
            )
        else:
            st.dataframe(
                logins.detail,
                hide_index=True,
                column_config={
                    "source_ip": "Source address",
                    "failures": st.column_config.NumberColumn("Failed sign-ins", format="%d"),
                    "first": st.column_config.DatetimeColumn("First", format="ddd D MMM HH:mm"),
                    "last": st.column_config.DatetimeColumn("Last", format="ddd D MMM HH:mm"),
                    "tenants": st.column_config.NumberColumn("Client firms tried", format="%d"),
                },
            )
    with right:
        st.subheader("Audit log")
        if audit.detail.empty:
            st.caption(ui.plain(audit.reason))
        else:
            st.dataframe(
                audit.detail,
                hide_index=True,
                column_config={
                    "action": "Action",
                    "outcome": "Outcome",
                    "count": st.column_config.NumberColumn("Events", format="%d"),
                },
            )
        ui.page_link(
            "logs", "The events themselves, on the Logs page", ":material/receipt_long:", tab="Audit events"
        )


body()
