"""The API's errors as the pages show them: in the page's language (pt-BR by default)
from the message catalogue, still tied to the field the API names.

The services and the schemas speak English to API clients (their messages are part
of the contract); a page maps each refusal to a catalogue message: pydantic's errors
by their ``type`` (with the limits in their ``ctx``), the services' by the pattern of
their message, anything else by the error's code. The field is kept as the API gives
it (``name``, ``items[0].red``, ``tree:1.2``) so the page shows it at that field."""
from __future__ import annotations

import re
from typing import Any, Callable

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from .i18n import translator

# What each kind of object is called on the pages: (noun, "um"/"uma") — the article agrees.
NOUNS: dict[str, tuple[str, str]] = {
    "monitoring group": ("grupo de monitoramento", "um"), "queue": ("fila", "uma"), "IVR": ("URA", "uma"),
    "trunk": ("tronco", "um"), "outbound route": ("rota de saída", "uma"), "prompt": ("áudio", "um"),
    "extension": ("ramal", "um"), "domain": ("domínio", "um"), "campaign": ("campanha", "uma"),
    "user": ("usuário", "um"), "callback": ("retorno", "um"), "agent": ("agente", "um"),
    "supervisor": ("supervisor(a)", "um(a)"),
}
_KINDS = "|".join(sorted((re.escape(k) for k in NOUNS), key=len, reverse=True))

EXISTS_UM = "Já existe um {noun} com o nome {name}."
EXISTS_UMA = "Já existe uma {noun} com o nome {name}."
MISSING = "Não há {noun} {name} neste domínio."

# The services' messages (English, for API clients) → catalogue message; named groups fill it.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), m) for p, m in (
    (rf"^(?P<kind>{_KINDS}) (?P<name>.+?) (?:already )?exists$", "@exists"),
    (r"^username (?P<name>.+) is taken$", "O nome de usuário {name} já está em uso."),
    (rf"^(?P<kind>{_KINDS}) (?P<name>.+) not found$", "@missing"),
    (rf"^no (?P<kind>{_KINDS}) '?(?P<name>.+?)'? in this domain$", "@missing"),
    (rf"^no such (?P<kind>{_KINDS})(?:\(s\))?: (?P<name>.+)$", "@missing"),
    (rf"^no such (?P<kind>{_KINDS}) in this domain: (?P<name>.+)$", "@missing"),
    (r"^queue (?P<queue>\S+) belongs to monitoring group (?P<group>.+)$",
     "A fila {queue} já pertence ao grupo de monitoramento {group}."),
    (r"^DID (?P<did>\S+) is already routed$", "O DID {did} já tem uma rota."),
    (r"^(?P<number>\S+) is already (?:blacklisted|listed)$", "O número {number} já está na lista."),
    (r"^(?P<number>\S+) is not (?:blacklisted|listed)$", "O número {number} não está na lista."),
    (r"^a queue cannot overflow to itself$", "Uma fila não pode transbordar para ela mesma."),
    (r"^'(?P<name>[^']+)' is reserved", "O nome {name} é reservado: é o endereço da página de criação."),
    (r"^is in the past$", "A data e a hora já passaram."),
    (r"^at most a year ahead$", "No máximo um ano à frente."),
    (r"^queue or agent is required", "Informe a fila ou o agente que faz o retorno."),
    (r"^you may not (?:deactivate yourself|delete yourself)",
     "Você não pode desativar nem excluir a sua própria conta, nem mudar o seu próprio papel."),
    (r"^only root may", "Só o administrador geral pode dar ou mudar o papel de superusuário."),
    (r"^must be at or (?:past|below) yellow", "O vermelho precisa estar no amarelo ou além dele."),
    (r"^a service level is a percentage", "O nível de serviço é uma porcentagem (0 a 100)."),
    (r"given twice$", "Este indicador aparece duas vezes para a mesma fila."),
    (r"^a prompt is at most (?P<mb>\d+) MB$", "O arquivo pode ter no máximo {mb} MB."),
    (r"^a prompt plays from (?P<low>[\d.]+) to (?P<high>[\d.]+) seconds",
     "O áudio precisa durar de {low} a {high} segundos."),
    (r"^file must be a WAV or an MP3 sound$", "O arquivo precisa ser um som WAV ou MP3."),
    (r"^not a sound file sox can read", "O arquivo não é um som que o servidor consiga ler."),
    (r"^file is required", "Escolha um arquivo."),
    (r"^name is required", "Informe o nome: letras minúsculas, números, _ e -."),
    (r"^a registering trunk needs username and secret$", "Um tronco com registro precisa de usuário e senha."),
    (r"^extensions lists a number twice$", "Um ramal aparece duas vezes na lista."),
    (r"^stop the campaign before deleting it$", "Encerre a campanha antes de excluí-la."),
    (r"^campaign (?P<name>.+) is (?P<status>\w+): cannot (?P<action>\w+)$",
     "A campanha {name} não permite esta ação no estado atual."),
    (r"^callback \d+ is \w+: only a scheduled callback", "Só um retorno agendado pode ser alterado."),
    (r"^the extension is the agent's own", "Este é o ramal do próprio agente: use outro."),
    (r"^hangup takes no target$", "Desligar não tem destino."),
    (r"^\w+ needs a target$", "Informe o destino."),
    (r"is not a time zone", "Fuso horário desconhecido."),
    (r"^an IP address or network", "Informe um endereço IP ou uma rede (CIDR), ex.: 200.1.2.0/24."),
    (r"^(?P<n>\d+) agent\(s\) are logged into queue (?P<queue>\S+)",
     "Há agentes conectados à fila {queue}: desconecte-os antes."),
    (r"^agent (?P<agent>\S+) is logged in on extension (?P<number>\S+)$",
     "O agente {agent} está conectado no ramal {number}."),
    (r"^(?:an inbound route sends calls to|IVR \S+ leads to) IVR", "Esta URA está em uso por uma rota ou outra URA."),
    (r"^(?:queue \S+ overflows to|outbound route \S+ uses trunk)", "Este item está em uso por outra configuração."),
    (r"^is required$", "Campo obrigatório."),
    (r"^needs at least one option$", "Um menu precisa de ao menos uma opção."),
    (r"^options are single keys", "As opções são teclas únicas: 0–9, * ou #."),
    (r"^must be an integer from (?P<low>-?\d+) to (?P<high>-?\d+)$", "Informe um número inteiro de {low} a {high}."),
    (r"^a prompt is a sound name", "Um áudio é um nome de som (letras minúsculas, números, _ - /)."),
    (r"^no such prompt or sound: (?P<name>.+)$", "Não há áudio {name} neste domínio."),
    (r"^must name a target", "Informe o destino (letras minúsculas, números e hífen)."),
    (r"^tree (?:deeper|larger) than", "A URA passou do tamanho máximo."),
    (r"^unknown node type", "Tipo de nó desconhecido."),
    (r"^unknown field for a", "Campo não reconhecido."),
    (r"^unknown check", "Verificação desconhecida."),
    (r"^extension (?P<number>\S+) does not exist(?: in this domain)?$", "O ramal {number} não existe neste domínio."),
    (r"is a WebRTC agent and logs in on extension (?P<number>\S+) only$",
     "Este atendente usa o telefone WebRTC e entra só pelo ramal {number}."),
    (r"^extension (?P<number>\S+) is not linked to queue (?P<queue>\S+)$",
     "O ramal {number} não está vinculado à fila {queue}."),
    (r"^extension (?P<number>\S+) is in use by agent (?P<agent>\S+)$", "O ramal {number} está em uso pelo agente {agent}."),
    (r"^extension (?P<number>\S+) is not registered on the server$", "O ramal {number} não está registrado no servidor."),
    (r"^a window ends after it starts \((?P<window>[^)]+)\)$", "Uma janela termina depois de começar ({window})."),
    (r"^each window is", "Cada janela é HH:MM-HH:MM."),
    (r"^a list of at most (?P<n>\d+) \[start, end\] windows$", "No máximo {n} janelas por dia."),
    (r"^days are", "Dia desconhecido."),
    (r"^extension (?P<number>\S+) was just taken by another agent$",
     "O ramal {number} acabou de ser ocupado por outro agente."),
    (r"^extension (?P<number>\S+) is not registered", "O ramal {number} não está registrado: nenhum telefone tocaria."),
    (r"^user (?P<name>\S+) is inactive$", "O usuário {name} está inativo."),
    (r"^(?P<name>\S+) is not logged in$", "{name} não está conectado(a)."),
    (r"has a call in progress", "Há uma chamada em andamento: saia depois que ela terminar."),
    (r"is already logged in; log out first$", "Já há uma sessão conectada: saia primeiro."),
    (r"^agents may only act on their own session$", "Um atendente só age sobre a própria sessão."),
    (r"^choose at least one queue$", "Escolha ao menos uma fila."),
    (r"^queues lists a queue twice$", "Uma fila aparece duas vezes."),
    (r"^call \S+ (?:is not in talk with an agent|has no agent channel)", "A chamada não está em conversa com um agente."),
    (r"^queue \(every queue\) is not in your monitoring groups$",
     "Os limites de todas as filas são definidos pelo administrador."),
    (r"^queue (?P<queue>\S+) is not in your monitoring groups$",
     "A fila {queue} não está nos seus grupos de monitoramento."),
))

# A pydantic error's type → catalogue message (its ``ctx`` fills it).
PYDANTIC: dict[str, str] = {
    "missing": "Campo obrigatório.",
    "string_too_long": "Use no máximo {max_length} caracteres.",
    "string_pattern_mismatch": "Formato inválido.",
    "string_type": "Informe um texto.",
    "int_parsing": "Informe um número inteiro.", "int_type": "Informe um número inteiro.",
    "int_from_float": "Informe um número inteiro.",
    "float_parsing": "Informe um número.", "float_type": "Informe um número.",
    "greater_than_equal": "Informe um valor maior ou igual a {ge}.",
    "greater_than": "Informe um valor maior que {gt}.",
    "less_than_equal": "Informe um valor menor ou igual a {le}.",
    "less_than": "Informe um valor menor que {lt}.",
    "literal_error": "Escolha uma das opções.", "enum": "Escolha uma das opções.",
    "bool_parsing": "Informe sim ou não.", "bool_type": "Informe sim ou não.",
    "too_long": "No máximo {max_length} itens.", "too_short": "Informe ao menos {min_length} item(ns).",
    "datetime_parsing": "Informe uma data e hora válidas.", "datetime_from_date_parsing": "Informe uma data e hora válidas.",
    "extra_forbidden": "Campo não reconhecido.",
}
# Known name patterns: what the field accepts, said plainly.
FORMATS: dict[str, str] = {
    r"^[a-z0-9][a-z0-9-]*$": "Use letras minúsculas, números e hífen, começando por letra ou número.",
    r"^[A-Za-z0-9][A-Za-z0-9._@-]*$": "Use letras, números, ponto, @, _ e hífen, começando por letra ou número.",
    r"^#[0-9a-fA-F]{6}$": "Use uma cor no formato #RRGGBB (ex.: #1f3a68).",
}
BY_CODE: dict[str, str] = {
    "validation_error": "Valor inválido.", "bad_request": "Pedido inválido.",
    "conflict": "A alteração conflita com o estado atual; recarregue a página e tente de novo.",
    "not_found": "Não encontrado.", "forbidden": "Você não tem permissão para esta operação.",
    "payload_too_large": "Arquivo grande demais.", "unsupported_media_type": "Tipo de arquivo não aceito.",
}
FALLBACK = "Valor inválido."


def page_language(request: web.Request | str) -> Callable[[str], str]:
    """The translator of the request's page language (or of a language code)."""
    if isinstance(request, str):
        return translator(request)
    from . import LANG
    return translator(request.get(LANG) or "pt_BR")


def _strip_field(message: str, field: str | None) -> str:
    """``queues: queue x ...`` → ``queue x ...`` (the page shows the field apart)."""
    head, sep, rest = message.partition(": ")
    if sep and (head == field or re.fullmatch(r"[a-z_]+(\[\d+\])?(\.[a-z_]+)?|items\[\d+\](\.\w+)?", head)):
        return rest
    return message


def translate_message(message: str, _: Callable[[str], str], field: str | None = None) -> str | None:
    """One English message of the services in the page's language, or None when unknown."""
    text = _strip_field(message.strip(), field)
    for pattern, template in PATTERNS:
        m = pattern.search(text)
        if m is None:
            continue
        params = {k: v for k, v in m.groupdict().items() if v is not None}
        if template in ("@exists", "@missing"):
            noun, article = NOUNS[params.pop("kind")]
            if template == "@missing":
                return _(MISSING).format(noun=_(noun), name=params["name"])
            return _(EXISTS_UMA if article == "uma" else EXISTS_UM).format(noun=_(noun), name=params["name"])
        return _(template).format(**params)
    return None


def localize(exc: ApiError, request: web.Request | str) -> str:
    """The message of a refusal of the services, in the page's language."""
    _ = page_language(request)
    found = translate_message(exc.message, _, exc.field)
    if found is not None:
        return found
    return _(BY_CODE.get(exc.code, FALLBACK))


def api_errors(exc: ApiError, request: web.Request | str, default: str = "__all__") -> dict[str, str]:
    """``{field: message}`` of a refusal of the services (the field the API names)."""
    return {exc.field or default: localize(exc, request)}


def pydantic_message(err: Any, _: Callable[[str], str]) -> str:
    kind, ctx = str(err.get("type", "")), dict(err.get("ctx") or {})
    if kind == "string_too_short":
        return _("Campo obrigatório.") if ctx.get("min_length") == 1 else \
            _("Use ao menos {min_length} caracteres.").format(min_length=ctx.get("min_length"))
    if kind == "string_pattern_mismatch" and str(ctx.get("pattern")) in FORMATS:
        return _(FORMATS[str(ctx["pattern"])])
    if kind in ("value_error", "assertion_error"):
        raw = str(err.get("msg", ""))
        raw = raw.split(", ", 1)[1] if raw.startswith(("Value error, ", "Assertion failed, ")) else raw
        return translate_message(raw, _) or _(FALLBACK)
    template = PYDANTIC.get(kind)
    if template is None:
        return _(FALLBACK)
    try:
        return _(template).format(**ctx)
    except (KeyError, IndexError):
        return _(FALLBACK)


def pydantic_errors(exc: ValidationError, request: web.Request | str) -> dict[str, str]:
    """``{field: message}`` of a body the schemas refused: the first error of each field."""
    _ = page_language(request)
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if not isinstance(x, int)]
        out.setdefault(loc[0] if loc else "__all__", pydantic_message(err, _))
    return out
