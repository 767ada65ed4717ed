"""A campaign's contacts uploaded as a CSV file (multipart/form-data, API.md's "CSV upload"),
beside the raw text/csv body and the JSON list: the same row checks, nothing half-imported."""
from __future__ import annotations

from aiohttp import FormData

from tests.support.api import assert_error
from tests.support.telephony import Scene


async def test_contacts_csv_uploaded_as_a_file(scene: Scene) -> None:
    await scene.queue("q")
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "Arquivo", "queue": "q"}, 201)
    url = f"/api/v1{base}/{camp['id']}/contacts"
    auth = {"Authorization": f"Bearer {scene.root.token}"}

    def upload(text: str, field: str = "file", filename: str | None = "contatos.csv") -> FormData:
        form = FormData()
        form.add_field(field, text.encode(), filename=filename, content_type="text/csv")
        return form

    bad = "nome;telefone\nAna;(11) 98765-4321\nBeto;11 8765-432\n"
    resp = await scene.root.client.post(url, data=upload(bad), headers=auth)
    body = await resp.json()
    assert_error(resp.status, body, 422, "contacts.3.number")  # the CSV row (header = row 1)
    assert "row 3" in body["error"]["message"] and "nothing was imported" in body["error"]["message"]
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["contacts"] == 0

    form = FormData()
    form.add_field("note", "sem arquivo", content_type="text/plain")  # multipart, with no file part
    resp = await scene.root.client.post(url, data=form, headers=auth)
    assert_error(resp.status, await resp.json(), 400, "file")

    big = "telefone\n" + "11987654321\n" * 400_000  # > 4 MB
    resp = await scene.root.client.post(url, data=upload(big), headers=auth)
    assert resp.status == 413, await resp.text()
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["contacts"] == 0

    good = "\ufeffnome,telefone,plano\nAna,(11) 98765-4321,ouro\nDuda,2125551234,prata\n"
    resp = await scene.root.client.post(url, data=upload(good, field="contacts"), headers=auth)
    assert resp.status == 201, await resp.text()
    assert await resp.json() == {"imported": 2, "total": 2}
    items = (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"]
    assert [(c["number"], c["name"], c["data"]) for c in items] == [
        ("11987654321", "Ana", {"plano": "ouro"}), ("2125551234", "Duda", {"plano": "prata"})]


async def test_a_new_campaign_takes_its_first_contacts(scene: Scene) -> None:
    """API.md lists `contacts` among a campaign's fields: given on create, they are checked row by
    row (any bad row refuses the campaign too) and read back as a count."""
    await scene.queue("q")
    base = f"/domains/{scene.domain}/campaigns"
    status, body = await scene.root.call("POST", base, {"name": "Lista", "queue": "q", "contacts": [
        {"number": "11987654321"}, {"number": "123"}]})
    assert_error(status, body, 422, "contacts.2.number")
    assert (await scene.root.ok("GET", base))["total"] == 0  # no campaign half-made
    camp = await scene.root.ok("POST", base, {"name": "Lista", "queue": "q", "contacts": [
        {"number": "(11) 98765-4321", "name": "Ana", "data": {"plano": "ouro"}}, {"number": "2125551234"}]}, 201)
    assert camp["contacts"] == 2 and camp["status"] == "draft"
    items = (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"]
    assert [(c["number"], c["name"], c["data"]) for c in items] == [
        ("11987654321", "Ana", {"plano": "ouro"}), ("2125551234", "", {})]
    empty = await scene.root.ok("POST", base, {"name": "Vazia", "queue": "q"}, 201)
    assert empty["contacts"] == 0
