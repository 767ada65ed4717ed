"""English for the administrators' home (the domain's dashboard); keys are the pt-BR texts."""
from __future__ import annotations

EN_HOME: dict[str, str] = {
    "Resumo do domínio": "Domain overview",
    "Acompanhar": "Follow",
    "Abrir o painel de supervisão": "Open the supervision panel",
    "{n} atendentes ativos": "{n} active agents",
    "{n} registrados agora": "{n} registered now",
    "{n} disponíveis": "{n} reachable",
    "troque de domínio no menu ao lado ou aqui:": "switch domains in the side menu or here:",
    "Nenhum domínio ainda. Crie um domínio pela API (POST /api/v1/domains) para começar.":
        "No domain yet. Create one through the API (POST /api/v1/domains) to begin.",
    "Seu perfil não tem permissão para abrir esta página.": "Your role may not open this page.",
    "Voltar ao início": "Back to the home page",
    "Painel de supervisão": "Supervision panel",
    "Filas, agentes e chamadas ao vivo, com os limites de cor do domínio; ouvir, sussurrar e conferência.":
        "Live queues, agents and calls, coloured by the domain's thresholds; listen, whisper and barge.",
    "Modo TV": "TV view",
    "Escolha suas filas e o ramal, entre, pause e atenda: a chamada atual aparece ali, com transferência e "
    "qualificação.": "Choose your queues and extension, log in, pause and take calls: the current call shows "
                     "there, with transfer and qualification.",
    "Abrir a tela do agente": "Open the agent screen",
}
