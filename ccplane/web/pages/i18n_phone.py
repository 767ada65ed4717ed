"""English for the agent screen's phone (issue 15); pt-BR is the source text."""
from __future__ import annotations

EN_PHONE: dict[str, str] = {
    "Telefone do navegador": "Browser phone", "ramal": "extension",
    "Desconectado": "Offline",
    "O navegador não permitiu o uso do microfone. Clique no cadeado ao lado do endereço, permita o microfone "
    "para este site e recarregue a página: sem ele você não pode atender.":
        "The browser did not allow the microphone. Click the padlock beside the address, allow the microphone "
        "for this site and reload the page: without it you cannot answer.",
    "Chamada recebida": "Incoming call", "Nenhuma chamada no telefone.": "No call on the phone.",
    "Atender": "Answer", "Recusar": "Reject", "Encerrar chamada": "Hang up", "Mudo": "Mute",
    "Em espera": "Hold", "Teclado (DTMF)": "Keypad (DTMF)",
    "Transferir para (ramal ou número)": "Transfer to (extension or number)",
    "Transferência direta pelo telefone": "Blind transfer from the phone",
    # labels phone.js shows
    "Registrado": "Registered", "Conectando…": "Connecting…", "Falha no registro": "Registration failed",
    "Chamada encerrada.": "Call ended.",
    "Chamada recebida de {from}": "Incoming call from {from}",
    "Conexão com o servidor de telefonia perdida. Reconectando…":
        "Connection to the telephony server lost. Reconnecting…",
    "Não foi possível atender: {cause}": "Could not answer: {cause}",
    "Transferência enviada.": "Transfer sent.", "Transferência recusada: {cause}": "Transfer refused: {cause}",
    "Qualidade: MOS {mos} · perda {loss}% · jitter {jitter} ms · RTT {rtt} ms":
        "Quality: MOS {mos} · loss {loss}% · jitter {jitter} ms · RTT {rtt} ms",
    "Retirar da espera": "Resume", "Com som": "Unmute",
    "Transferência assistida": "Attended transfer", "Concluir transferência": "Complete transfer",
    "Cancelar transferência": "Cancel transfer",
    "Consultando {to}: o chamador aguarda em espera. Converse com o destino e conclua ou cancele.":
        "Consulting {to}: the caller is on hold. Talk to the target, then complete or cancel.",
    "Concluindo a transferência…": "Completing the transfer…", "Transferência concluída.": "Transfer completed.",
    "Transferência cancelada: você voltou a falar com o chamador.": "Transfer cancelled: you are back with the caller.",
    "Nenhuma chamada sua para transferir.": "No call of yours to transfer.",
    "Informe o ramal ou número de destino.": "Enter the target extension or number.",
}
