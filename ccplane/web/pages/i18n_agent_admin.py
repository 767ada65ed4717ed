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
    "Seu usuário não é membro deste domínio: não há tela de agente para ele aqui.":
        "Your user is not a member of this domain: there is no agent screen for it here.",
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

    # supervisor panel
    "Deslogar": "Log out", "Tirar {u} das filas?": "Log {u} out of the queues?", "Chamada": "Call",
    "Nenhuma chamada ativa": "No active call", "Nenhuma fila com chamadas": "No queue with calls",
    "Nível de serviço": "Service level", "Ações": "Actions",
    "Nível de serviço: atendidas em até {s} s, nas últimas 24 horas": "Service level: answered within {s} s, last 24 hours",
    # administration
    "Administração": "Administration", "Equipe": "Team", "URAs": "IVRs", "Nova fila": "New queue",
    "Fila salva": "Queue saved", "Nome": "Name", "Estratégia": "Strategy", "Máx. não atendimentos": "Max no answer",
    "Editar": "Edit", "Cancelar": "Cancel", "Há um problema": "There is a problem",
    "Letras minúsculas, números e hífen; até 32 caracteres (ex.: suporte).":
        "Lower-case letters, digits and hyphen; up to 32 characters (e.g. support).",
    "Letras minúsculas, números e hífen; até 24 caracteres.": "Lower-case letters, digits and hyphen; up to 24 characters.",
    "Informe um número inteiro de segundos.": "Enter a whole number of seconds.", "Informe um número inteiro.": "Enter a whole number.",
    "Usuário salvo": "User saved", "Usuários": "Users", "Perfil": "Role", "Situação": "Status", "Ativo": "Active",
    "Desativar": "Deactivate", "Ativar": "Activate", "Novo usuário": "New user", "Adicionar": "Add",
    "Atendente": "Attendant", "Supervisor": "Supervisor", "Administrador": "Administrator",
    "Superusuário": "Superuser", "Administrador global": "Root administrator",
    "Ramal salvo": "Extension saved", "Número": "Number", "Tipo": "Type", "Senha SIP": "SIP password",
    "Usuário SIP": "SIP username", "Registro": "Registration", "Em uso por": "In use by", "Registrado": "Registered",
    "Não registrado": "Not registered", "Novo ramal": "New extension",
    "Árvores de URA": "IVR trees", "Nenhuma URA cadastrada.": "No IVR yet.", "Nova URA": "New IVR", "Criar": "Create",
    "Cada nó é um passo da ligação: um menu toca um áudio e espera uma tecla; coletar lê dígitos (ex.: um CPF); os "
    "demais encerram o caminho (fila, ramal, outra URA, desligar). Todo menu tem os ramos de opção inválida e de "
    "tempo esgotado.":
        "Each node is a step of the call: a menu plays a prompt and waits for a key; collect reads digits (e.g. a "
        "CPF); the others end the path (queue, extension, another IVR, hang up). Every menu has the invalid-input "
        "and timeout branches.",
    "URA salva.": "IVR saved.", "Salvar URA": "Save IVR", "Voltar": "Back",
    "O editor de URA precisa de JavaScript.": "The IVR editor needs JavaScript.", "Áudio": "Prompt", "Destino": "Target",
    "Dígitos": "Digits", "Verificação": "Check", "Tempo para digitar (s)": "Input timeout (s)", "Tentativas": "Retries",
    "Áudio de opção inválida": "Invalid-option prompt", "Áudio de tempo esgotado": "Timeout prompt", "Tecla": "Key",
    "Opção inválida": "Invalid input", "Tempo esgotado": "Input timeout", "Em seguida": "Next", "Se falhar": "If it fails",
    "Adicionar opção": "Add option", "Remover": "Remove", "Tecla da nova opção": "Key of the new option", "Menu": "Menu",
    "Coletar dígitos": "Collect digits", "Tocar áudio": "Play prompt", "Outra URA": "Another IVR", "nenhuma": "none",
    "Todos ao mesmo tempo": "All at once", "Em sequência": "In sequence", "Rodízio com memória": "Round-robin with memory",
    "Quem atendeu há mais tempo": "Least recent", "Quem atendeu menos chamadas": "Fewest calls", "Aleatório": "Random",
    "Não encontrado.": "Not found.", "Alterar": "Change", "Erro neste nó": "Error at this node", "Início da URA": "Start of the IVR",
}


# The queue form's labels and help (admin.QUEUE_FIELDS): the product's own definitions.
EN_AGENT_ADMIN.update({
    "Estratégia de distribuição": "Ring strategy",
    "Como a chamada é oferecida aos agentes: todos ao mesmo tempo (ringall); em sequência, um após o outro "
    "(linear); rodízio com memória (rrmemory); o que atendeu há mais tempo (leastrecent); o que atendeu "
    "menos chamadas (fewestcalls); aleatório (random). Com um só agente que não atende, a chamada volta a "
    "ser oferecida a ele até ser atendida ou perdida.":
        "How the call is offered to agents: all at once (ringall); to each agent in sequence (linear); "
        "round-robin with memory (rrmemory); the one who answered least recently (leastrecent); the one with "
        "the fewest calls (fewestcalls); at random (random). With one agent who does not answer, the call is "
        "offered to that agent again until it is answered or lost.",
    "Tempo de pós-atendimento (s)": "Wrap-up time (s)",
    "Segundos entre o fim de uma chamada e a próxima oferta ao mesmo agente, para anotações e formulários. "
    "Vale para a fila; pode ser alterado por agente.":
        "Seconds between the end of a call and the next offer to that agent (notes, forms). Per queue, "
        "overridable per agent.",
    "Máximo de não atendimentos": "Max no answer",
    "Depois de N ofertas seguidas não atendidas, o agente entra em pausa automática (o motivo aparece "
    "para os supervisores). 0 desativa.":
        "After N consecutive unanswered offers the agent is put into automatic pause (reason shown to "
        "supervisors). 0 disables.",
    "Tempo máximo da chamada (s)": "Call timeout (s)",
    "Duração máxima de uma chamada; ao ser atingida, a chamada é desconectada automaticamente. 0 desativa.":
        "Maximum duration of a call; when reached the call is disconnected automatically. 0 disables.",
    "Atraso de rejeição (s)": "Reject delay (s)",
    "Tempo que o sistema espera antes de rejeitar uma chamada que não pode ser atendida, para que o "
    "roteamento ainda a envie a outro destino; também o tempo até oferecer de novo a um agente que "
    "rejeitou ou estava ocupado.":
        "Time the system waits before rejecting a call that cannot be served, so routing can still send it "
        "elsewhere; also the time before an agent who rejected or was busy is offered again.",
    "Tempo de toque (s)": "Ring timeout (s)", "Quanto tempo cada oferta toca no ramal do agente.":
        "How long each offer rings on the agent's extension.",
    "Intervalo entre tentativas (s)": "Retry (s)", "Espera entre uma rodada de ofertas e a seguinte (mínimo 1).":
        "Wait between one round of offers and the next (at least 1).",
    "Espera após não atendimento (s)": "Delay after no answer (s)",
    "Tempo até oferecer de novo a um agente que deixou a chamada tocar sem atender.":
        "Time before an agent who let the call ring unanswered is offered again.",
    "Espera após ocupado (s)": "Delay after busy (s)",
    "Tempo até oferecer de novo a um agente ocupado ou que rejeitou; vazio: o atraso de rejeição.":
        "Time before a busy or rejecting agent is offered again; empty: the reject delay.",
    "Espera máxima na fila (s)": "Max wait (s)",
    "Tempo máximo de um chamador na fila antes do transbordo. 0: sem limite.":
        "Longest a caller waits in the queue before overflow. 0: no limit.",
    "Tamanho máximo da fila": "Max length", "Quantos chamadores podem aguardar ao mesmo tempo. 0: sem limite.":
        "How many callers may wait at once. 0: no limit.",
    "Aceitar chamadas sem agentes": "Join when empty", "Chamadas entram na fila mesmo sem agentes conectados.":
        "Calls join the queue even with no agent logged in.",
    "Retirar chamadas quando não houver agentes": "Leave when empty",
    "Chamadores saem da fila (para o transbordo) quando o último agente sai.":
        "Callers leave the queue (to the overflow) when the last agent logs out.",
    "Gravar as chamadas": "Record calls", "As chamadas atendidas pela fila são gravadas.":
        "Calls answered through the queue are recorded.",
    "Grupo de monitoramento": "Monitoring group", "Supervisores deste grupo ouvem as gravações da fila.":
        "Supervisors of this group listen to the queue's recordings.",
    "Transbordo": "Overflow",
    "Para onde vai o chamador quando a espera máxima acaba, a fila está cheia ou não há agentes: "
    "desligar, outra fila ou um ramal.":
        "Where the caller goes when the max wait runs out, the queue is full or has no agents: hang up, another "
        "queue or an extension.",
    "Tipo de transbordo": "Overflow type", "Destino do transbordo": "Overflow target", "fila ou ramal": "queue or extension",
    "Ramais vinculados": "Linked extensions",
    "Ramais em que os agentes podem entrar nesta fila, separados por vírgula (ex.: 7401, 7402).":
        "Extensions agents may log into this queue on, comma-separated (e.g. 7401, 7402).",
    "Fila": "Queue",
})

# inbound routes, blacklist, trunks and outbound routes
EN_AGENT_ADMIN.update({
    "Rotas de entrada": "Inbound routes", "Alterações salvas.": "Changes saved.", "Número (DID)": "Number (DID)",
    "Alvo": "Target", "Número bloqueado": "Blocked number", "Motivo": "Reason", "Rotas": "Routes",
    "Nenhuma rota cadastrada.": "No route yet.", "Atraso": "Delay", "Nova rota": "New route",
    "O número discado que chega pelo tronco, só dígitos (ex.: 1133334444).":
        "The dialled number arriving from the trunk, digits only (e.g. 1133334444).",
    "O nome da fila ou da URA, ou o número do ramal; vazio para Desligar.":
        "The queue's or IVR's name, or the extension's number; empty for Hang up.",
    "Tempo que o sistema espera antes de rejeitar uma chamada que não pode ser atendida, para que o roteamento "
    "ainda a envie a outro destino.":
        "Time the system waits before rejecting a call that cannot be served, so routing can still send it elsewhere.",
    "Lista de bloqueio": "Blacklist", "Chamadas recebidas destes números são rejeitadas.":
        "Inbound calls from these numbers are rejected.",
    "Nenhum número bloqueado.": "No blocked number.", "Bloquear número": "Block a number",
    "DDD + número, sem espaços (ex.: 11987654321).": "Area code + number, no spaces (e.g. 11987654321).",
    "Bloquear": "Block", "Troncos e rotas de saída": "Trunks and outbound routes", "Nome do tronco": "Trunk name",
    "Servidor": "Server", "Porta": "Port", "Número de saída (Caller ID)": "Outbound number (caller ID)",
    "Nome da rota": "Route name", "Padrões": "Patterns", "Troncos": "Trunks", "Dígitos a remover": "Digits to strip",
    "Prefixo": "Prefix", "Nenhum tronco cadastrado.": "No trunk yet.", "Sim": "Yes", "Não": "No",
    "inacessível": "unreachable", "acessível": "reachable", "desconhecido": "unknown", "registro": "registration",
    "pendente": "pending", "Novo tronco": "New trunk",
    "Letras minúsculas, números e hífen (ex.: operadora).": "Lower-case letters, digits and hyphen (e.g. carrier).",
    "Endereço ou nome do servidor SIP da operadora.": "Address or name of the carrier's SIP server.",
    "Transporte": "Transport", "Registrar na operadora": "Register with the carrier",
    "Só dígitos, opcionalmente com + (ex.: 551133334444).": "Digits only, optionally with + (e.g. 551133334444).",
    "Rotas de saída": "Outbound routes", "Nenhuma rota de saída.": "No outbound route.",
    "Nova rota de saída": "New outbound route",
    "Padrões do Asterisk separados por vírgula (ex.: _0XX9XXXXXXXX, _0XXXXXXXXXX).":
        "Asterisk patterns, comma-separated (e.g. _0XX9XXXXXXXX, _0XXXXXXXXXX).",
    "Em ordem de preferência, separados por vírgula.": "In order of preference, comma-separated.",
    "Quantos dígitos tirar do início antes de discar.": "How many leading digits to remove before dialling.",
    "Acrescentado antes de discar (ex.: 55).": "Added before dialling (e.g. 55).",
})

EN_AGENT_ADMIN.update({
    "Transferência enviada.": "Transfer sent.",
    "Falando com o destino: conclua ou cancele a transferência.":
        "Talking to the target: complete or cancel the transfer.",
    "Transferência concluída.": "Transfer completed.",
    "Transferência cancelada: o cliente voltou para você.": "Transfer cancelled: the caller is back with you.",
})
