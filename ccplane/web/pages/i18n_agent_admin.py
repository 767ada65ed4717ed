"""English for the agent screen and the administration pages (pt-BR is the source
text, as gettext msgids would be); merged into the translator by i18n.py."""
from __future__ import annotations

EN_AGENT_ADMIN: dict[str, str] = {
    # agent screen
    "Conexão perdida. Reconectando…": "Connection lost. Reconnecting…",
    "Não foi possível concluir": "That could not be done",
    "Você não pode sair das filas com uma chamada em andamento. Encerre a chamada e tente novamente.":
        "You cannot leave the queues while a call is in progress. End the call and try again.",
    "Este ramal não pode ser usado agora.": "This extension cannot be used now.",
    "Escolha ao menos uma fila.": "Choose at least one queue.",
    "Escolha um ramal.": "Choose an extension.",
    "Informe o motivo da pausa (até 64 caracteres, sem | ).": "Give the pause reason (up to 64 characters, no | ).",
    "A operação foi recusada.": "The operation was refused.",
    "1. Escolha as filas": "1. Choose the queues",
    "Nenhuma fila cadastrada neste domínio.": "No queue in this domain.",
    "Ver ramais disponíveis": "Show available extensions",
    "2. Escolha o ramal": "2. Choose the extension",
    "Escolha as filas para ver os ramais oferecidos.": "Choose the queues to see the extensions offered.",
    "Nenhum ramal oferecido. São oferecidos os ramais vinculados às filas escolhidas, registrados no servidor e "
    "que não estão em uso por outro agente. Verifique se o seu telefone está ligado e registrado, ou peça ao "
    "supervisor para vincular o ramal às filas.":
        "No extension offered. The extensions offered are those linked to the chosen queues, registered on the "
        "server and not in use by another agent. Check that your phone is on and registered, or ask your "
        "supervisor to link the extension to the queues.",
    "Ramal": "Extension", "Ramais": "Extensions", "Entrar nas filas": "Log in to the queues",
    "Minha sessão": "My session", "Sair das filas": "Log out of the queues",
    "Chamada atual": "Current call", "Espera": "Wait", "Duração": "Duration", "URA": "IVR",
    "Protocolo": "Protocol", "Transferir": "Transfer", "Destino (ramal ou número)": "Target (extension or number)",
    "Transferência direta": "Blind transfer", "Transferência assistida": "Attended transfer",
    "Qualificação do atendimento": "Attendance qualification", "Qualificação": "Disposition",
    "Descrição": "Description", "Salvar qualificação": "Save qualification",
    "Nenhuma chamada no momento.": "No call right now.", "Pós-atendimento: {s} s restantes": "Wrap-up: {s} s left",
    "Aguardando na fila": "Waiting in queue", "Ligação direta": "Direct call", "Sem passagem pela URA": "No IVR step",
    "Almoço": "Lunch", "Banheiro": "Restroom", "Treinamento": "Training", "Reunião": "Meeting",
    "Feedback": "Feedback",
}
