"""The courses service's HTML pages: plain server-rendered HTML, a bar chart in inline SVG."""

from __future__ import annotations

from html import escape
from typing import Any

from everest_elearn.courses.model import Course, Enrolment, FeedbackSummary
from everest_elearn.security.identity import Identity, Role

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.update{color:#a60;font-weight:bold}form{margin:.5rem 0}"""

SCRIPT = """async function send(method, url, body){const r=await fetch(url,{method,headers:
{'Content-Type':'application/json','X-XSRFToken':document.body.dataset.xsrf},body:body?JSON.stringify(body):undefined});
const t=await r.text();document.getElementById('status').textContent=r.ok?'Done.':('Failed: '+t);if(r.ok)setTimeout(()=>location.reload(),300);}"""


def page(title: str, body: str, xsrf: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head>"
        f"<body data-xsrf='{escape(xsrf)}'><h1>{escape(title)}</h1><p id='status' role='status'></p>{body}</body></html>"
    )


def home(
    prefix: str,
    identity: Identity,
    mine: list[dict[str, Any]],
    managed: list[Course],
    server: str,
    xsrf: str,
) -> str:
    api = f"{escape(prefix)}api/me/server"
    parts = [
        f"<p>Signed in as <b>{escape(identity.subject or '')}</b>. My server: "
        f"<span id='my-server'>{escape(server)}</span> "
        f"<button onclick=\"send('POST','{api}')\">start</button> "
        f"<button onclick=\"send('DELETE','{api}')\">stop</button></p><h2>My courses</h2>"
    ]
    if not mine:
        parts.append("<p>You are not enrolled in any course yet.</p>")
    for course in mine:
        cid = escape(course["id"])
        parts.append(
            f"<h3>{escape(course['title'])}</h3><table><tr><th>Module</th><th>Version</th><th>Feedback</th></tr>"
        )
        for m in course["modules"]:
            update = (
                "<span class='update'>update available</span>"
                if m["update_available"]
                else "up to date"
                if m["synced"]
                else "not yet in your home"
            )
            name = escape(m["name"])
            parts.append(
                f"<tr><td>{name}</td><td>{escape(m['ref'])}: {update}</td><td>"
                f"<form onsubmit=\"event.preventDefault();send('POST','{escape(prefix)}api/courses/{cid}/feedback',"
                f"{{module:'{name}',rating:this.rating.value,comment:this.comment.value}})\">"
                f"<select name='rating' aria-label='rating for {name}'>{''.join(f'<option>{i}</option>' for i in range(5, 0, -1))}</select>"
                f"<input name='comment' aria-label='comment for {name}' placeholder='comment'><button>Rate</button></form></td></tr>"
            )
        parts.append("</table>")
    if identity.roles & {Role.ADMIN, Role.MANAGER}:
        parts.append("<h2>Courses I can manage</h2><ul>")
        for c in managed:
            parts.append(
                f"<li><a href='{escape(prefix)}courses/{escape(c.id)}'>{escape(c.title)}</a></li>"
            )
        parts.append(
            "</ul><h3>New course</h3><form onsubmit=\"event.preventDefault();send('POST','"
            + escape(prefix)
            + "api/courses',{id:this.cid.value,title:this.title.value,packages:this.packages.value.split(/[ ,]+/).filter(Boolean),"
            "modules:this.modules.value.split(/[ ,]+/).filter(Boolean).map(m=>({name:m.split('@')[0],ref:m.split('@')[1]||'main'}))})\">"
            "<input name='cid' placeholder='id (e.g. forest-2025)' aria-label='course id'> <input name='title' placeholder='title' aria-label='title'> "
            "<input name='packages' placeholder='packages name:version' aria-label='packages'> "
            "<input name='modules' placeholder='modules name@ref' aria-label='modules'> <button>Create</button></form>"
        )
    return page("Courses", "".join(parts), xsrf)


def chart(summary: FeedbackSummary) -> str:
    """Bars for ratings 1..5 (count of each), drawn as SVG."""
    top = max(summary.histogram.values()) or 1
    bars = []
    for i, rating in enumerate(range(1, 6)):
        n = summary.histogram[rating]
        h = int(80 * n / top)
        bars.append(
            f"<rect x='{10 + i * 30}' y='{90 - h}' width='22' height='{h}' fill='#3a7'><title>{rating}: {n}</title></rect>"
            f"<text x='{16 + i * 30}' y='104' font-size='11'>{rating}</text>"
        )
    label = escape(f"ratings of {summary.module}")
    return f"<svg role='img' aria-label='{label}' width='170' height='110'>{''.join(bars)}</svg>"


def course(
    prefix: str,
    c: Course,
    enrolments: list[Enrolment],
    summary: list[FeedbackSummary],
    servers: dict[str, str],
    xsrf: str,
) -> str:
    api = f"{escape(prefix)}api/courses/{escape(c.id)}"
    rows = "".join(
        f"<tr><td>{escape(e.username)}</td><td>{escape(str(e.role))}</td><td>{escape(e.source)}</td>"
        f"<td class='server'>{escape(servers.get(e.username, 'unknown'))}</td><td><button onclick=\"send('POST','{api}/servers/{escape(e.username)}')\">start</button> "
        f"<button onclick=\"send('DELETE','{api}/servers/{escape(e.username)}')\">stop</button></td></tr>"
        for e in enrolments
    )
    body = [
        f"<p>Dates: {escape(f'{c.starts} to {c.ends}' if c.starts or c.ends else 'not set')}; packages: {escape(', '.join(map(str, c.packages)) or 'none')}; "
        f"modules: {escape(', '.join(f'{m.name}@{m.ref}' for m in c.modules) or 'none')}</p>",
        f"<h2>Participants</h2><table id='participants'><tr><th>User</th><th>Role</th><th>Enrolled by</th><th>Server</th><th></th></tr>{rows}</table>",
        f"<form onsubmit=\"event.preventDefault();send('POST','{api}/enrolments',{{usernames:this.names.value.split(/[ ,]+/).filter(Boolean)}})\">"
        "<input name='names' placeholder='user names' aria-label='user names to enrol'><button>Enrol</button></form>",
        f"<h2>Feedback</h2><p><a href='{api}/feedback.csv'>Export (CSV)</a></p>",
    ]
    for s in summary:
        average = f"{s.average:.2f}" if s.average is not None else "-"
        comments = "".join(
            f"<li>{escape(text)} <small>({escape(who)})</small></li>" for who, text in s.comments
        )
        body.append(
            f"<section class='feedback' data-module='{escape(s.module)}'><h3>{escape(s.module)}</h3>"
            f"<p>{s.count} rating(s), average {average}</p>{chart(s)}<ul>{comments}</ul></section>"
        )
    return page(c.title, "".join(body), xsrf)
