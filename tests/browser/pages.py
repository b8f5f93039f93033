"""Small page objects for the Yhdessä shell, plus the axe check every browser test uses."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = {"serious", "critical"}
_axe = Axe()


def axe_violations(page, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """axe-core violations of the given impacts on the current page."""
    results = _axe.run(page, options=AXE_OPTIONS)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict], where: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"      {', '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, where: str | None = None) -> None:
    """No serious or critical axe violations (WCAG 2.1 A/AA and best practice rules)."""
    violations = axe_violations(page)
    assert not violations, format_violations(violations, where or page.url)


class ShellPage:
    """Any page in the base layout: header, language switcher, main navigation, main, footer."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")

    def open(self, path: str = "/"):
        self.response = self.page.goto(self.base_url + path)
        return self

    # --- parts of the layout -------------------------------------------------------
    @property
    def html_lang(self) -> str:
        return self.page.locator("html").get_attribute("lang")

    @property
    def heading(self) -> str:
        return self.page.locator("main h1").inner_text().strip()

    @property
    def title(self) -> str:
        return self.page.title()

    @property
    def nav(self):
        return self.page.get_by_role("navigation", name=re.compile(r"^(Päävalikko|Huvudmeny|Main)$"))

    def nav_links(self) -> list[tuple[str, str]]:
        links = self.page.locator("nav.main-nav a")
        return [(links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href"))
                for i in range(links.count())]

    def go_to_section(self, label: str):
        with self.page.expect_navigation():
            self.page.locator("nav.main-nav").get_by_role("link", name=label, exact=True).click()
        return self

    def current_nav_label(self) -> str:
        return self.page.locator('nav.main-nav a[aria-current="page"]').inner_text().strip()

    def language_button(self, code: str):
        return self.page.locator(f'.language-switcher button[value="{code}"]')

    def switch_language(self, code: str):
        with self.page.expect_navigation():
            self.language_button(code).click()
        return self

    def landmark_counts(self) -> dict[str, int]:
        return self.page.evaluate("""() => ({
            banner: document.querySelectorAll('body > header, [role=banner]').length,
            navigation: document.querySelectorAll('nav.main-nav').length,
            unnamed_navigation: [...document.querySelectorAll('nav, [role=navigation]')].filter(
                (nav) => !nav.classList.contains('main-nav')
                         && !(nav.getAttribute('aria-label') || nav.getAttribute('aria-labelledby'))).length,
            main: document.querySelectorAll('main, [role=main]').length,
            contentinfo: document.querySelectorAll('body > footer, [role=contentinfo]').length,
        })""")

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the document is wider than the viewport (0 = no sideways scroll)."""
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")

    def focused(self) -> dict:
        return self.page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || '').trim(),
                    outline: style.outlineStyle, outlineWidth: style.outlineWidth,
                    boxShadow: style.boxShadow};
        }""")


class LoginPage(ShellPage):
    def open(self, path: str = "/accounts/login/"):
        return super().open(path)

    @property
    def email(self):
        return self.page.locator("#id_login")

    @property
    def password(self):
        return self.page.locator("#id_password")

    def submit(self):
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").click()
        return self

    def sign_in(self, email: str, password: str):
        self.email.fill(email)
        self.password.fill(password)
        self.submit()
        assert "/accounts/login/" not in self.page.url, f"sign-in failed:\n{self.page.locator('main').inner_text()}"
        return ShellPage(self.page, self.base_url)

    def described_by_text(self, locator) -> str:
        """The text the field's aria-describedby points to (its errors and help)."""
        ids = (locator.get_attribute("aria-describedby") or "").split()
        return " ".join(self.page.locator(f"#{i}").inner_text() for i in ids)
