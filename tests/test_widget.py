"""The web widget in a real browser (headless Chromium) against `coursebot serve`.

Skips when Chromium or its driver is missing, unless COURSEBOT_REQUIRE_SERVERS=1 (CI),
where that is a failure. Selenium is given the driver's path, so it never downloads one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.agent import Agent
from bot.channels.http import create_app
from tests.conftest import TINY, copy_project
from tests.http_server import endpoints_file, serving, serving_app

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = {"desktop": Path("/tmp/widget_desktop.png"), "phone": Path("/tmp/widget_phone.png")}
TIMEOUT_S = 60

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def course_url(course_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("widget-store")
    with serving(course_copy, "--endpoints", str(endpoints_file(folder)), log_dir=folder) as server:
        yield server.url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        reason = f"{' and '.join(missing)} not found (apt-get install chromium chromium-driver)"
        if os.environ.get("COURSEBOT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{reason}, and COURSEBOT_REQUIRE_SERVERS=1 requires it")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--window-size=1280,900", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, message: str = ""):
    return WebDriverWait(driver, TIMEOUT_S).until(condition, message)


def bubbles(driver, role: str) -> list:
    return driver.find_elements(By.CSS_SELECTOR, f"#log .msg-{role}")


# A bubble's lines as the bot wrote them: paragraphs, and list items with their marker.
_LINES = """
const lines = [];
for (const element of arguments[0].children) {
  if (element.tagName === "P") lines.push(element.textContent);
  if (element.tagName === "UL" || element.tagName === "OL")
    for (const item of element.children) lines.push(item.dataset.marker + item.textContent);
}
return lines.join("\\n");
"""


def text_of(bubble) -> str:
    """The message as written (the speaker label is for screen readers only)."""
    return bubble.parent.execute_script(_LINES, bubble)


def open_widget(driver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: bubbles(d, "bot") or bubbles(d, "error"), "the widget showed nothing")
    wait(driver, lambda d: not d.find_element(By.ID, "typing").is_displayed())


def send(driver, text: str) -> list[str]:
    """Types `text` and presses Enter; returns the texts of the bot's new messages."""
    before = len(bubbles(driver, "bot"))
    box = driver.find_element(By.ID, "message")
    box.send_keys(text, Keys.ENTER)
    return await_replies(driver, before)


def await_replies(driver, before: int) -> list[str]:
    wait(driver, lambda d: len(bubbles(d, "bot")) > before or bubbles(d, "error"), "no reply")
    wait(driver, lambda d: not d.find_element(By.ID, "typing").is_displayed())
    return [text_of(bubble) for bubble in bubbles(driver, "bot")[before:]]


def texts(replies: list[dict]) -> list[str]:
    return [reply.get("text", "") for reply in replies]


def screenshot(driver, name: str, folder: Path) -> None:
    path = folder / f"widget_{name}.png"
    assert driver.save_screenshot(str(path))
    shutil.copy(path, SCREENSHOTS[name])


def test_a_question_gets_its_answer(browser, course_url, agent):
    open_widget(browser, course_url)
    assert browser.find_element(By.CSS_SELECTOR, "label[for=message]").get_attribute("textContent")
    replies = send(browser, "what is overfitting?")
    assert replies == texts(agent.handle("what is overfitting?", "widget-alone-1"))
    assert text_of(bubbles(browser, "user")[-1]) == "what is overfitting?"
    assert browser.switch_to.active_element == browser.find_element(By.ID, "message")  # ready for the next one
    assert browser.find_element(By.ID, "message").get_attribute("value") == ""


def test_buttons_send_their_payload_and_are_used_up(browser, course_url, agent, tmp_path):
    open_widget(browser, course_url)
    help_replies = agent.handle("help", "widget-alone-2")
    buttons = [button for reply in help_replies for button in reply.get("buttons", [])]
    assert buttons, "the help response should offer buttons"
    assert send(browser, "help") == texts(help_replies)
    shown = browser.find_elements(By.CSS_SELECTOR, "#log .choice")
    assert [b.text for b in shown] == [button["title"] for button in buttons]

    before = len(bubbles(browser, "bot"))
    shown[0].click()
    replies = await_replies(browser, before)
    assert replies == texts(agent.handle(buttons[0]["payload"], "widget-alone-2"))
    assert text_of(bubbles(browser, "user")[-1]) == buttons[0]["title"]  # the title, not "/ask_pipeline"
    assert all(not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "#log .choice"))
    screenshot(browser, "desktop", tmp_path)

    # After a reload, the same conversation comes back from the server.
    conversation = [(role, text_of(b)) for b in browser.find_elements(By.CSS_SELECTOR, "#log .msg")
                    for role in [b.get_attribute("class").split("msg-")[1]]]
    browser.refresh()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .msg")) >= len(conversation) - 1)
    restored = [(b.get_attribute("class").split("msg-")[1], text_of(b))
                for b in browser.find_elements(By.CSS_SELECTOR, "#log .msg")]
    assert restored == conversation[1:]  # all but the client-side greeting
    assert all(not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "#log .choice"))


def test_phone_width_has_no_horizontal_scrollbar(browser, course_url, tmp_path):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    open_widget(browser, course_url)
    assert browser.execute_script("return window.innerWidth") == 360
    send(browser, "help")
    send(browser, "what is " + "supercalifragilistic" * 4 + "?")  # one very long word
    widths = browser.execute_script("""
        const page = document.scrollingElement;
        const log = document.getElementById('log');
        return [page.scrollWidth, page.clientWidth, log.scrollWidth, log.clientWidth];""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    for element in browser.find_elements(By.CSS_SELECTOR, "#log .choice, #send, #message, #restart"):
        rect = element.rect
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= 360, element.get_attribute("outerHTML")
    screenshot(browser, "phone", tmp_path)


def test_server_errors_are_shown_readably(browser, course_url):
    open_widget(browser, course_url)
    browser.execute_script("document.getElementById('message').value = 'why '.repeat(1500)")
    browser.find_element(By.ID, "send").click()
    wait(browser, lambda d: bubbles(d, "error"))
    error = bubbles(browser, "error")[-1]
    assert error.get_attribute("role") == "alert"
    assert "the limit is 5000 characters" in text_of(error)


def test_start_over_clears_the_conversation(browser, course_url):
    open_widget(browser, course_url)
    send(browser, "what is a feature?")
    browser.find_element(By.ID, "restart").click()
    wait(browser, lambda d: not bubbles(d, "user"))
    wait(browser, lambda d: bubbles(d, "bot"))
    browser.refresh()
    wait(browser, lambda d: bubbles(d, "bot"))
    assert not bubbles(browser, "user")


@pytest.fixture(scope="module")
def stub_agent(tmp_path_factory: pytest.TempPathFactory) -> Agent:
    """The tiny bot, answering with every kind of message the widget renders."""
    agent = Agent.load(copy_project(TINY, tmp_path_factory.mktemp("widget") / "tiny"))

    def handle(text: str, sender_id: str = "default") -> list[dict]:
        return [{"recipient_id": sender_id, "text": "Line one\nLine two <b>not bold</b>"},
                {"recipient_id": sender_id, "text": "Listen:",
                 "attachment": {"type": "audio", "payload": {"src": "/media/hello.mp3"}}},
                {"recipient_id": sender_id, "attachment": "/media/again.ogg"},
                {"recipient_id": sender_id, "image": "/media/picture.png"},
                {"recipient_id": sender_id, "image": "javascript:alert(1)"}]

    agent.handle = handle
    return agent


def test_text_audio_and_images_render_safely(browser, stub_agent):
    with serving_app(create_app(stub_agent)) as url:
        open_widget(browser, url)
        replies = send(browser, "<i>show me</i>")
    assert replies[0] == "Line one\nLine two <b>not bold</b>"  # as text, line break kept
    log = browser.find_element(By.ID, "log")
    assert not log.find_elements(By.CSS_SELECTOR, "b, i")
    audio = log.find_elements(By.TAG_NAME, "audio")
    assert [a.get_attribute("src") for a in audio] == [f"{url}/media/hello.mp3", f"{url}/media/again.ogg"]
    assert all(a.get_attribute("controls") is not None for a in audio)
    images = log.find_elements(By.TAG_NAME, "img")
    assert [i.get_attribute("src") for i in images] == [f"{url}/media/picture.png"]  # not the javascript: one
    assert images[0].get_attribute("alt")


def test_lists_links_and_the_source_line_are_built_as_elements(browser, stub_agent):
    answer = ("Tools for ML\n- Jupyter notebook\n- Pandas\n1. Problem formulation\n3. Feature engineering\n"
              "Blogs: https://aws.amazon.com/blogs/machine-learning/ and javascript:alert(1)\n"
              "From the course: ML Tools > Tools for ML")
    original = stub_agent.handle
    stub_agent.handle = lambda text, sender_id="default": [{"recipient_id": sender_id, "text": answer}]
    try:
        with serving_app(create_app(stub_agent)) as url:
            open_widget(browser, url)
            [reply] = send(browser, "tools?")
    finally:
        stub_agent.handle = original
    assert reply == answer  # every line kept, in order
    last = bubbles(browser, "bot")[-1]
    assert [li.text for li in last.find_elements(By.CSS_SELECTOR, "ul > li")] == ["Jupyter notebook", "Pandas"]
    assert [li.get_attribute("value") for li in last.find_elements(By.CSS_SELECTOR, "ol > li")] == ["1", "3"]
    [link] = last.find_elements(By.TAG_NAME, "a")
    assert link.get_attribute("href") == "https://aws.amazon.com/blogs/machine-learning/"
    assert link.get_attribute("rel") == "noopener noreferrer"
    source = last.find_element(By.CSS_SELECTOR, "p.source")
    assert source.text == "From the course: ML Tools > Tools for ML"
    assert source.value_of_css_property("font-size") != last.find_element(By.TAG_NAME, "p").value_of_css_property(
        "font-size")


def test_the_page_passes_its_token_on(browser, tmp_path):
    token = "widget-token"
    tiny = copy_project(TINY, tmp_path / "tiny")
    with serving(tiny, "--auth-token", token, log_dir=tmp_path) as server:
        open_widget(browser, f"{server.url}/?token={token}")
        assert not bubbles(browser, "error")
        assert send(browser, "hello") == ["Hello there!"]
        browser.get(f"{server.url}/")  # no token: the conversation's key still reads it back...
        wait(browser, lambda d: bubbles(d, "user"))
        assert [text_of(b) for b in bubbles(browser, "user")] == ["hello"]
        box = browser.find_element(By.ID, "message")
        box.send_keys("hello again", Keys.ENTER)  # ...but talking to the bot takes the token, readably
        wait(browser, lambda d: bubbles(d, "error"))
        assert "token" in text_of(bubbles(browser, "error")[0])


def stored(driver) -> dict:
    return driver.execute_script("return {sender: localStorage.getItem('coursebot.sender'), "
                                 "key: localStorage.getItem('coursebot.conversation-key')}")


def test_the_widget_keeps_its_conversation_key_and_needs_it(browser, course_url, course_copy):
    """The reply that starts a conversation carries its key; the widget keeps it beside its
    sender id and shows the history only with it. Without it, the widget starts afresh
    instead of continuing a conversation it may not read."""
    from bot.channels.http import KEY_PURPOSE
    from bot.server_key import keyed_hash, server_key

    open_widget(browser, course_url)
    assert stored(browser)["key"] is None  # nothing said yet
    send(browser, "what is a label?")
    first = stored(browser)
    assert first["key"] == keyed_hash(server_key(course_copy), first["sender"], KEY_PURPOSE)
    browser.refresh()
    wait(browser, lambda d: bubbles(d, "user"))
    assert [text_of(b) for b in bubbles(browser, "user")] == ["what is a label?"]

    browser.execute_script("localStorage.setItem('coursebot.conversation-key', '0'.repeat(32))")  # a wrong key
    browser.refresh()
    wait(browser, lambda d: bubbles(d, "bot"))
    wait(browser, lambda d: not d.find_element(By.ID, "typing").is_displayed())
    assert not bubbles(browser, "user") and not bubbles(browser, "error")
    assert stored(browser)["sender"] != first["sender"] and stored(browser)["key"] is None

    browser.execute_script("localStorage.removeItem('coursebot.conversation-key');"
                           f"localStorage.setItem('coursebot.sender', '{first['sender']}')")  # a sender id alone
    browser.refresh()
    wait(browser, lambda d: bubbles(d, "bot"))
    assert not bubbles(browser, "user") and stored(browser)["sender"] != first["sender"]
