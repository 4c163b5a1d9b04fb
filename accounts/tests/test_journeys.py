import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_then_see_an_empty_dashboard(page):
    page.goto("/")
    page.wait_for_url("**/accounts/login/?next=/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("analytical-engine-1843")
    page.get_by_label("Password confirmation").fill("analytical-engine-1843")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello, Ada")
    assert page.get_by_text("No projects yet").is_visible()
