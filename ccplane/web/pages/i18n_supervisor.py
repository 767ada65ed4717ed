"""English for the supervisor panel's listen/whisper/barge, group filter, thresholds and
TV view (pt-BR is the source text); merged into the translator by i18n.py."""
from __future__ import annotations

EN_SUPERVISOR: dict[str, str] = {
    "Ouvir": "Listen", "Sussurrar": "Whisper", "Conferência": "Barge",
    "Informe o seu ramal para ouvir a chamada.": "Give your extension to listen to the call.",
    "Atenda o ramal {e}: {m} na chamada de {a}.": "Answer extension {e}: {m} on {a}'s call.",
    "MOS {mos} · perda {loss}% · jitter {jitter} ms": "MOS {mos} · loss {loss}% · jitter {jitter} ms",
    "Qualidade da chamada (telefone WebRTC do agente)": "Call quality (the agent's WebRTC phone)",
    "atenção": "warning", "crítico": "critical", "Som ligado": "Sound on", "Som desligado": "Sound off",
    "Modo TV": "TV view", "Grupo de monitoramento": "Monitoring group", "Todos os meus grupos": "All my groups",
    "Todas as filas": "All queues", "Filtrar": "Filter", "Meu ramal (para ouvir)": "My extension (to listen)",
    "Indicadores": "Figures", "Limites de cor": "Colour thresholds", "Salvar limites": "Save thresholds",
    "Limites salvos.": "Thresholds saved.", "amarelo": "yellow", "vermelho": "red",
    "Maior espera (s)": "Longest wait (s)", "Nível de serviço (%)": "Service level (%)",
    "Nível de serviço": "Service level", "Ações": "Actions", "Chamada": "Call", "Deslogar": "Log out",
    "Amarelo e vermelho por indicador: esperas (segundos) e aguardando (chamadas) ficam coloridos a partir do "
    "valor; o nível de serviço (%), abaixo dele. A linha de uma fila vale sobre a de todas as filas; em branco, "
    "sem limite. Um som toca uma vez quando um limite é ultrapassado.":
        "Yellow and red per figure: waits (seconds) and waiting (calls) turn coloured from the value on; the "
        "service level (%), below it. A queue's row overrides the all-queues row; blank, no threshold. A tone "
        "plays once when a threshold is crossed.",
    "Informe um número (0 ou mais) no amarelo e no vermelho.": "Give a number (0 or more) for yellow and red.",
    "O vermelho precisa ser pior que o amarelo: acima dele nas esperas e na fila, abaixo dele no nível de serviço.":
        "Red must be worse than yellow: above it for waits and waiting calls, below it for the service level.",
    "Valor fora do intervalo: o nível de serviço vai de 0 a 100 %; esperas e filas, de 0 a 86400.":
        "Value out of range: the service level goes from 0 to 100 %; waits and waiting calls from 0 to 86400.",
    # the agent screen's call card: qualification from the queue's list, schedule a callback
    "Escolha…": "Choose…", "Salvo.": "Saved.", "Retorno agendado para {at}.": "Callback scheduled for {at}.",
    "Escolha um horário no futuro.": "Choose a time in the future.", "Agendar retorno": "Schedule a callback",
    "Número para retornar": "Number to call back", "Quando": "When", "Observação": "Note",
}
