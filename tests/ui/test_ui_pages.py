"""The UI in a real Chromium against a real `mizzen server`, on runs made by real `mizzen run`s."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect
from ui_harness import HELD, PROJECT, TOKEN, UiServer

from conftest import Runs, screenshot


def test_the_login_page_refuses_a_wrong_token_and_returns_to_the_page_asked_for(
    browser: Browser, ui_server: UiServer, runs: Runs
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{ui_server.url}/projects/{PROJECT}?query=status%3Afailed")
    assert "/login" in page.url
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not this server's token")
    screenshot(page, "login")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{ui_server.url}/projects/{PROJECT}?query=status%3Afailed")
    expect(page.locator("#query")).to_have_value("status:failed")
    context.close()


def _status_counts(ui_server: UiServer) -> dict[str, int]:
    runs = ui_server.api("GET", "/runs", params={"project": PROJECT, "limit": 1000})["items"]
    return dict(Counter(run["status"] for run in runs))


def test_projects_show_their_runs_by_status_and_last_activity(
    page: Page, ui_server: UiServer, runs: Runs
) -> None:
    def shown() -> dict[str, int]:
        page.goto(ui_server.url + "/")
        chips = page.locator(f"tr[data-project='{PROJECT}'] a.count")
        return {
            chips.nth(i).locator(".chip").get_attribute("data-status") or "": int(
                chips.nth(i).locator("b").inner_text()
            )
            for i in range(chips.count())
        }

    for _attempt in range(20):  # another test may move a run meanwhile: page and API must agree once
        if shown() == _status_counts(ui_server):
            break
    assert shown() == _status_counts(ui_server)
    row = page.locator(f"tr[data-project='{PROJECT}']")
    expect(row.locator("td").nth(1)).to_have_text(str(sum(_status_counts(ui_server).values())))
    expect(row.locator("td").nth(3)).to_have_text(re.compile(r"just now|min ago"))
    screenshot(page, "projects")
    row.locator("a.count", has=page.locator(".chip[data-status='failed']")).click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    expect(page.locator("#runs-table tbody tr")).to_contain_text("broken-loader")


def test_the_runs_table_filters_on_the_server_and_the_url_carries_the_view(
    page: Page, ui_server: UiServer, runs: Runs
) -> None:
    page.goto(f"{ui_server.url}/projects/{PROJECT}")
    rows = page.locator("#runs-table tbody tr")
    total = sum(_status_counts(ui_server).values())
    expect(page.locator(".table-meta")).to_contain_text(f"{total} runs")
    expect(rows.filter(has_text="train-resnet")).to_have_count(1)
    expect(rows.filter(has_text="train-resnet").locator(".param")).to_contain_text(["epochs=3", "lr=0.05"])
    screenshot(page, "runs")

    page.fill("#query", "status:failed")
    page.press("#query", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("broken-loader")
    assert "query=status%3Afailed" in page.url

    page.fill("#query", "metrics.loss:<0.5, inputs.lr:0.05")
    page.press("#query", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("train-resnet")

    page.go_back()  # history restores the previous view
    expect(page.locator("#query")).to_have_value("status:failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("broken-loader")

    page.fill("#query", "")
    page.select_option("#sort", "name")
    expect(page).to_have_url(re.compile(r"sort=name"))
    names = [name.strip() for name in rows.locator("td:nth-child(2)").all_inner_texts()]
    assert len(names) == total and names == sorted(names)


def test_a_bad_query_is_explained_under_the_box(page: Page, ui_server: UiServer, runs: Runs) -> None:
    page.goto(f"{ui_server.url}/projects/{PROJECT}")
    page.fill("#query", "colour:red")
    page.press("#query", "Enter")
    error = page.locator("#run-filter #query-error")  # in the form, right under the box
    expect(error).to_contain_text("unknown field 'colour'")
    expect(error).to_contain_text("metrics.NAME")
    expect(page.locator("#runs-table")).to_have_count(0)
    screenshot(page, "runs-bad-query")
    page.goto(f"{ui_server.url}/projects/{PROJECT}?query=metrics.loss%3A%3Cabc")  # a shared link too
    expect(page.locator("#query-error")).to_contain_text("metrics.loss")
    page.fill("#query", "status:failed")
    page.press("#query", "Enter")
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    expect(page.locator("#query-error")).to_have_count(0)  # a good query clears the error


def test_status_chips_in_the_table_change_without_a_reload(
    page: Page, ui_server: UiServer, runs: Runs, tmp_path: Path
) -> None:
    held = ui_server.submit(tmp_path, "held-live", HELD)
    page.goto(f"{ui_server.url}/projects/{PROJECT}")
    chip = page.locator(f"tr[data-run='{held}'] .chip")
    expect(chip).to_have_attribute("data-status", "created")
    page.evaluate("window.__same_page = true")
    ui_server.api("POST", f"/runs/{held}/approve")
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=120_000)
    assert page.evaluate("window.__same_page") is True  # updated in place, not by a page load


def test_the_run_page_shows_a_finished_run_its_charts_and_logs(
    page: Page, ui_server: UiServer, runs: Runs
) -> None:
    run = ui_server.run(runs.train)
    page.goto(f"{ui_server.url}/runs/{runs.train}")
    header = page.locator("#run-header")
    expect(header.locator("h1")).to_have_text("train-resnet")
    expect(header.locator(".chip")).to_have_attribute("data-status", "succeeded")
    expect(header).to_contain_text(runs.train)
    assert run["duration"] is not None and page.locator("#run-duration").inner_text() != "—"
    timeline = page.locator("#timeline .step-name").all_text_contents()
    assert [c["type"].replace("_", " ") for c in run["conditions"]] == timeline
    assert timeline[-2:] == ["running", "succeeded"]
    expect(page.locator("#inputs")).to_contain_text("lr")
    expect(page.locator("#inputs")).to_contain_text("0.05")
    expect(page.locator("#outputs")).to_contain_text("best_loss")
    expect(page.locator("#outputs")).to_contain_text("0.0123")
    expect(page.locator("#why")).to_have_count(0)
    expect(page.locator("#stop")).to_be_disabled()  # nothing to stop

    for metric in ("accuracy", "loss"):  # drawn from a history downsampled to the chart's width
        chart = page.locator(f".chart[data-metric='{metric}']")
        expect(chart.locator("canvas")).to_have_count(1)
        expect(chart).to_have_attribute("data-points", re.compile(r"^\d+$"))
        points = int(chart.get_attribute("data-points") or 0)
        width = chart.locator("canvas").bounding_box()
        assert width is not None
        assert 2 < points < 3000 and points <= 2 * width["width"] + 2
        expect(chart.locator(".note")).to_contain_text("downsampled")

    logs = page.locator("#logs")
    expect(logs).to_contain_text("epoch 0 of 3 at lr 0.05")
    expect(logs).to_contain_text("training done")
    expect(logs).to_have_attribute("data-complete", "1")
    download = page.request.get(f"{ui_server.url}/ui/runs/{runs.train}/logs/download")
    assert download.ok and "training done" in download.text()
    screenshot(page, "run-succeeded")


def test_the_run_page_says_why_a_run_failed(page: Page, ui_server: UiServer, runs: Runs) -> None:
    run = ui_server.run(runs.broken)
    last = [c for c in run["conditions"] if c["reason"] or c["message"]][-1]
    page.goto(f"{ui_server.url}/runs/{runs.broken}")
    why = page.locator("#why")
    expect(why).to_contain_text("Why failed")
    expect(why).to_contain_text(last["message"] or last["reason"])
    expect(page.locator("#logs")).to_contain_text("loading shards")
    expect(page.locator("#no-metrics")).to_be_visible()
    screenshot(page, "run-failed")


def test_the_run_page_says_why_a_run_waits(page: Page, ui_server: UiServer, runs: Runs) -> None:
    page.goto(f"{ui_server.url}/runs/{runs.held}")
    why = page.locator("#why")
    expect(why).to_contain_text("Why pending")
    expect(why).to_contain_text("WaitingForApproval")
    expect(why).to_contain_text("mizzen ops approve")


def test_live_logs_stream_and_a_click_on_stop_stops_the_real_run(
    page: Page, ui_server: UiServer, runs: Runs
) -> None:
    page.goto(f"{ui_server.url}/runs/{runs.sleeper}")
    logs = page.locator("#logs")
    expect(logs).to_contain_text("tick 2")
    first = max(int(n) for n in re.findall(r"tick (\d+)", logs.inner_text()))
    expect(logs).to_contain_text(f"tick {first + 3}")  # lines keep arriving on the open page
    screenshot(page, "run-live")
    assert (
        page.evaluate("(e => e.scrollHeight - e.scrollTop - e.clientHeight)(document.getElementById('logs'))")
        < 8
    )

    page.uncheck("#logs-follow")  # pause: the view stays where the reader is while lines arrive
    page.evaluate("document.getElementById('logs').scrollTop = 0")
    seen = max(int(n) for n in re.findall(r"tick (\d+)", logs.inner_text()))
    expect(logs).to_contain_text(f"tick {seen + 3}")
    assert page.evaluate("document.getElementById('logs').scrollTop") == 0
    page.check("#logs-follow")  # follow again: back to the newest line
    assert (
        page.evaluate("(e => e.scrollHeight - e.scrollTop - e.clientHeight)(document.getElementById('logs'))")
        < 8
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop")
    ui_server.wait_status(runs.sleeper, {"stopped"})
    expect(page.locator("#run-header .chip")).to_have_attribute("data-status", "stopped", timeout=60_000)
    expect(page.locator("#logs-state")).to_contain_text("run finished", timeout=60_000)


def test_a_missing_run_or_project_is_a_404_page(page: Page, ui_server: UiServer) -> None:
    answer = page.goto(f"{ui_server.url}/runs/{'0' * 32}")
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    answer = page.goto(f"{ui_server.url}/projects/no-such-project")
    assert answer is not None and answer.status == 404


def test_pages_load_nothing_from_anywhere_but_the_server(page: Page, ui_server: UiServer, runs: Runs) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("/", f"/projects/{PROJECT}", f"/runs/{runs.train}", "/docs"):
        page.goto(ui_server.url + path)
        page.wait_for_load_state("networkidle")
    assert any(url.endswith("/static/vendor/uplot/uPlot.iife.min.js") for url in requested)
    assert [url for url in requested if not url.startswith(ui_server.url + "/")] == []


def test_restart_opens_the_new_run_and_delete_returns_to_the_project(
    page: Page, ui_server: UiServer, runs: Runs
) -> None:
    page.goto(f"{ui_server.url}/runs/{runs.broken}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#restart")
    page.wait_for_url(re.compile(r"/runs/(?!" + runs.broken + r")[0-9a-f]{32}$"))
    restarted = page.url.rsplit("/", 1)[1]
    assert ui_server.run(restarted)["original_uuid"] == runs.broken
    expect(page.locator("#run-header")).to_contain_text(runs.broken[:8])  # links back to the original
    ui_server.wait_status(restarted, {"failed"})
    page.once("dialog", lambda dialog: dialog.dismiss())  # a dismissed confirmation does nothing
    page.click("#delete")
    assert ui_server.run(restarted)["uuid"] == restarted
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_url(f"{ui_server.url}/projects/{PROJECT}")
    gone = httpx.get(f"{ui_server.url}/api/v1/runs/{restarted}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert gone.status_code == 404


def test_the_theme_follows_the_system_until_the_user_picks_one(
    browser: Browser, ui_server: UiServer, logged_in: Path
) -> None:
    for scheme in ("dark", "light"):
        context = browser.new_context(storage_state=str(logged_in), color_scheme=scheme)
        page = context.new_page()
        page.goto(ui_server.url + "/")
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        page.click("#theme-toggle")
        picked = "light" if scheme == "dark" else "dark"
        assert page.evaluate("document.documentElement.dataset.theme") == picked
        page.reload()
        assert page.evaluate("document.documentElement.dataset.theme") == picked  # remembered
        context.close()


def test_the_runs_table_pages_and_sorts_by_column(page: Page, ui_server: UiServer, runs: Runs) -> None:
    for number in range(53):  # made through the API: paging needs many runs, not real executions
        ui_server.api(
            "POST", "/runs", json={"project": "paged", "name": f"run-{number:02d}", "managed": False}
        )
    page.goto(f"{ui_server.url}/projects/paged?sort=name")
    rows = page.locator("#runs-table tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("run-00")
    page.click("a[rel=next]")
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"sort=name&page=2$"))
    expect(page.locator(".pager")).to_contain_text("page 2 of 2")
    page.click("#runs-table th >> text=Name")  # the header reverses the order, from page 1
    expect(rows.first).to_contain_text("run-52")
    expect(page).to_have_url(re.compile(r"sort=-name$"))
