"""English for the administration pages of monitoring groups, campaigns, callbacks,
recordings and the queue form's later settings (pt-BR is the source text, as
gettext msgids would be); merged into the translator by i18n.py."""
from __future__ import annotations

EN_ADMIN_OPS: dict[str, str] = {
    # queue form
    "Qualificações": "Dispositions",
    "As qualificações com que cada agente qualifica o protocolo que atendeu nesta fila (qualificação + descrição "
    "livre), uma por linha. Sem nenhuma, os atendimentos desta fila não podem ser qualificados.":
        "The dispositions each agent qualifies the protocol it handled in this queue with (disposition + free "
        "description), one per line. With none, this queue's attendances cannot be qualified.",
    "Transferência sem sucesso": "Failed transfer",
    "Quando uma transferência direta não é atendida (sem resposta, ocupado, indisponível), o chamador volta para "
    "esta fila ou para o agente que transferiu.":
        "When a blind transfer is not answered (no answer, busy, unavailable), the caller goes back to this queue "
        "or to the agent who transferred.",
    "Volta para a fila": "Back to the queue", "Volta para o agente que transferiu": "Back to the transferring agent",
    "Tecla de retorno": "Callback key",
    "Tecla (0–9, * ou #) que o chamador em espera pressiona para pedir que a central ligue de volta quando chegar "
    "a sua vez, em vez de aguardar na linha. Vazio: a fila não oferece retorno.":
        "Key (0–9, * or #) a waiting caller presses to be called back when their turn comes instead of holding. "
        "Empty: the queue offers no callback.",
    "Novas tentativas do retorno": "Callback retries",
    "Quantas vezes um retorno pedido na fila é tentado de novo quando o cliente não atende ou está ocupado "
    "(0 a 10).": "How many more times a callback asked for in the queue is tried when the customer does not "
                 "answer or is busy (0 to 10).",
    "Intervalo entre tentativas do retorno (s)": "Delay between callback attempts (s)",
    "Segundos entre uma tentativa de retorno não atendida e a seguinte (mínimo 5).":
        "Seconds between an unanswered callback attempt and the next (at least 5).",
    "Validade do pedido de retorno (s)": "Callback request expiry (s)",
    "Um pedido de retorno ainda não atendido depois deste tempo é abandonado (mínimo 60).":
        "A callback request not yet served after this time is given up (at least 60).",
    "Nenhum grupo": "No group",
    # menu, shared
    "Grupos de monitoramento": "Monitoring groups", "Campanhas": "Campaigns", "Retornos": "Callbacks",
    "Gravações": "Recordings", "Limpar": "Clear", "Nenhum": "None", "Nenhuma": "None", "de": "of",
    "Horários no fuso do domínio": "Times in the domain's zone", "Páginas": "Pages",
    # monitoring groups
    "Grupo de monitoramento": "Monitoring group", "Grupos": "Groups", "Nome do grupo": "Group name",
    "Até 64 caracteres (ex.: Grupo Suporte).": "Up to 64 characters (e.g. Support Group).",
    "Filas cobertas": "Queues covered",
    "Os supervisores do grupo ouvem as gravações e acompanham estas filas. Uma fila pertence a um grupo no máximo.":
        "The group's supervisors hear the recordings and watch these queues. A queue belongs to one group at most.",
    "Supervisores do grupo": "Group supervisors", "Supervisores": "Supervisors", "grupo": "group",
    "Ouvir gravações da central exige o perfil de supervisor e ser membro do grupo de monitoramento que cobre a "
    "fila.": "Hearing call-center recordings requires the supervisor profile and membership of the monitoring "
             "group that covers the queue.",
    "Nenhum supervisor neste domínio.": "No supervisor in this domain.",
    "Nenhum grupo de monitoramento neste domínio.": "No monitoring group in this domain.",
    "Novo grupo": "New group", "Criar grupo": "Create group", "Grupo salvo": "Group saved",
    "Grupo removido": "Group removed",
    "Somente administradores alteram os grupos de monitoramento.": "Only administrators change monitoring groups.",
    # campaigns
    "Campanha": "Campaign", "Nova campanha": "New campaign", "Campanha salva.": "Campaign saved.",
    "Nenhuma campanha neste domínio.": "No campaign in this domain.", "Progresso": "Progress",
    "Proporção": "Ratio", "Horário de discagem": "Calling hours", "contatos encerrados": "contacts finished",
    "atendidos": "answered", "Dentro do horário": "Within calling hours", "Fora do horário": "Outside calling hours",
    "Rascunho": "Draft", "Em andamento": "Running", "Pausada": "Paused", "Parada": "Stopped", "Concluída": "Finished",
    "Iniciar": "Start", "Parar": "Stop", "Configuração": "Settings",
    "Como a campanha aparece nas listas e relatórios.": "How the campaign shows in lists and reports.",
    "Os contatos que atendem são entregues aos agentes desta fila.":
        "Contacts who answer are handed to this queue's agents.",
    "Escolha a fila": "Choose the queue", "Fuso horário": "Time zone",
    "O horário de discagem vale neste fuso.": "The calling hours are in this time zone.",
    "Proporção de discagem": "Pacing ratio",
    "Chamadas discadas por agente livre (1 a 3). Acima de 1, o discador liga para mais contatos que agentes "
    "livres, contando que parte não atende.": "Calls dialled per free agent (1 to 3). Above 1 the dialer calls "
                                             "more contacts than free agents, counting on some not answering.",
    "Tentativas por contato": "Attempts per contact",
    "Quantas vezes um contato é discado até ser dado como não atendido (1 a 10).":
        "How many times a contact is dialled before it is given up as unanswered (1 to 10).",
    "Espera antes de discar de novo um contato que não atendeu ou estava ocupado.":
        "Wait before dialling again a contact who did not answer or was busy.",
    "Por dia da semana, faixas HH:MM-HH:MM separadas por vírgula (ex.: 08:00-12:00, 13:00-18:00). Dia vazio: não "
    "disca.": "Per weekday, HH:MM-HH:MM windows separated by commas (e.g. 08:00-12:00, 13:00-18:00). An empty "
              "day: no dialling.",
    "Segunda": "Monday", "Terça": "Tuesday", "Quarta": "Wednesday", "Quinta": "Thursday", "Sexta": "Friday",
    "Sábado": "Saturday", "Domingo": "Sunday",
    "Importar contatos (CSV)": "Import contacts (CSV)", "Arquivo CSV": "CSV file", "Importar": "Import",
    "Cabeçalho com numero (ou telefone) e, se quiser, nome; as demais colunas viram dados do contato. Separado "
    "por vírgula ou ponto e vírgula, em UTF-8. Uma linha com erro recusa o arquivo inteiro: nada é importado.":
        "A header with numero (or telefone/number) and optionally nome/name; other columns become the contact's "
        "data. Comma or semicolon separated, UTF-8. One bad row refuses the whole file: nothing is imported.",
    "Contatos importados": "Contacts imported", "total na campanha": "total in the campaign",
    "Arquivo recusado: nada foi importado": "File refused: nothing was imported",
    "linhas com erro. Corrija e envie o arquivo de novo.": "rows with errors. Fix them and send the file again.",
    "Linhas com erro": "Rows with errors", "Linha": "Row", "Campo": "Field", "Mensagem": "Message",
    "Contatos": "Contacts", "Nenhum contato importado.": "No contact imported.", "Tentativas": "Attempts",
    "Último resultado": "Last result", "Mostrando os primeiros": "Showing the first",
    "Lista de bloqueio da campanha": "Campaign blacklist",
    "Números que esta campanha nunca disca (o cliente pediu para não ser chamado). Vale também com a campanha em "
    "andamento.": "Numbers this campaign never dials (the customer asked not to be called). Also while it runs.",
    "Pendente": "Pending", "Discando": "Dialling", "Atendido, aguardando agente": "Answered, waiting for an agent",
    "Com agente": "With an agent", "Encerrando": "Ending", "Nova tentativa": "Retry", "Concluído": "Done",
    "Sem sucesso": "Failed", "Ignorado": "Skipped",
    # callbacks
    "Agendado": "Scheduled", "Chamando o agente": "Calling the agent", "Chamando o cliente": "Calling the customer",
    "Falhou": "Failed", "Cancelado": "Cancelled", "Agendamento": "Appointment",
    "Pedido na fila": "Asked for in the queue", "Retorno salvo": "Callback saved",
    "Nenhum retorno com estes filtros.": "No callback with these filters.", "Quando": "When", "posição": "position",
    "Observação": "Note", "Nova data e hora do retorno": "New date and time of callback", "Reagendar": "Reschedule",
    "Agendar retorno": "Schedule a callback", "Número do cliente": "Customer's number",
    "No horário do domínio. Na hora marcada, o agente (ou um agente livre da fila) é chamado e depois o cliente.":
        "In the domain's time. At that time the agent (or a free agent of the queue) is rung, then the customer.",
    "Um agente livre desta fila faz o retorno. Informe a fila, o agente ou os dois.":
        "A free agent of this queue makes the callback. Give the queue, the agent or both.",
    "Se o agente estiver fora, passar para a fila": "If the agent is logged out, hand it to the queue",
    "Quando o agente escolhido não está conectado na hora marcada, um agente livre da fila faz o retorno.":
        "When the chosen agent is not logged in at that time, a free agent of the queue makes the callback.",
    "Agendar": "Schedule",
    # recordings
    "Você vê as gravações das filas cobertas pelos seus grupos de monitoramento.":
        "You see the recordings of the queues your monitoring groups cover.",
    "Todas as gravações do domínio.": "Every recording of the domain.",
    "Nenhuma gravação com estes filtros.": "No recording with these filters.", "Ouvir": "Listen",
    "Baixar": "Download", "Gravação": "Recording", "Próximas": "Next",
    "Atendimento": "Attendance", "Consulta (transferência)": "Consultation (transfer)", "Interna": "Internal",
    "Saída": "Outbound", "Gravando": "Recording", "Pronta": "Ready", "Arquivo ausente": "File missing",
}
