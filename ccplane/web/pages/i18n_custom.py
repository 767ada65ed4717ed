"""English for the prompts page, the alert-app customisation page and its preview."""
from __future__ import annotations

EN_CUSTOM: dict[str, str] = {
    # /admin/prompts
    "Áudios da URA": "IVR prompts",
    "Envie gravações em WAV ou MP3 (até 20 MB e 10 minutos). Elas são convertidas para o formato que a central "
    "toca (8 kHz, mono) e ficam disponíveis nos campos de áudio do editor de URA.":
        "Upload WAV or MP3 recordings (up to 20 MB and 10 minutes). They are converted to what the PBX plays "
        "(8 kHz, mono) and offered in the IVR editor's prompt fields.",
    "Áudio enviado": "Prompt uploaded", "Áudio excluído": "Prompt deleted", "Áudios enviados": "Uploaded prompts",
    "Ouvir": "Listen", "Usado em": "Used by", "Nenhuma URA": "No IVR", "Excluir": "Delete",
    "Arquivo ausente neste servidor": "File missing on this server",
    "Nenhum áudio enviado ainda.": "No prompt uploaded yet.", "Enviar áudio": "Upload a prompt",
    "Letras minúsculas, números, _ e - (ex.: boas-vindas). É o nome usado na URA.":
        "Lower-case letters, digits, _ and - (e.g. welcome). The name the IVR uses.",
    "O áudio {name} é tocado por nós de URA ({nodes}): altere esses nós antes de excluí-lo.":
        "Prompt {name} is played by IVR nodes ({nodes}): change those nodes before deleting it.",
    "Arquivo": "File", "Arquivo (WAV ou MP3)": "File (WAV or MP3)", "Enviar": "Upload",
    # /admin/alert-app
    "Aplicativo de alertas": "Alert app",
    "Como o aplicativo aparece para as pessoas monitoradas em": "How the app looks to the monitored persons at",
    "A pré-visualização muda enquanto você digita; nada é aplicado antes de salvar.":
        "The preview changes as you type; nothing applies until you save.",
    "Personalização salva.": "Customisation saved.", "Identidade": "Identity",
    "Nome do aplicativo": "App name", "Mostrar o logotipo": "Show the logo", "Cores": "Colours",
    "Formato #RRGGBB, por exemplo #c62828.": "Format #RRGGBB, for example #c62828.",
    "Cor principal (barra do topo)": "Main colour (top bar)", "Cor de fundo": "Background colour",
    "Botão vermelho": "Red button", "Botão amarelo": "Yellow button", "Botão verde": "Green button",
    "Escolher": "Pick", "Texto do botão": "Button text", "Mensagem de confirmação": "Confirmation message",
    "Prazo para assumir (s)": "Deadline to take it (s)",
    "Segundos até o alerta ser escalado se ninguém assumir (5 a 3600); vazio: o padrão.":
        "Seconds before the alert escalates if nobody takes it (5 to 3600); empty: the default.",
    "Ligação": "Call", "Número da equipe de monitoramento": "Monitoring team's number",
    "O botão Ligar agora disca este número. Apenas dígitos, opcionalmente com + (ex.: +551140040000).":
        "The Call now button dials this number. Digits only, optionally with + (e.g. +551140040000).",
    "Texto do botão Ligar agora": "Call now button text",
    "Mensagem quando o alerta não pode ser enviado": "Message when the alert cannot be sent",
    "Textos": "Texts", "Prazos": "Deadlines", "Pré-visualização": "Preview",
    "Pré-visualização do aplicativo de alertas": "Alert app preview",
    "Na confirmação, depois de um toque:": "On the confirmation, after a press:",
}
