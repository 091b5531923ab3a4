"""The built-in prompt texts, per language (en, es, pl, tr, ko, zh).

Placeholders: ``{clinic}`` (clinic name), ``{emergency}`` (read digit by
digit), ``{position}``, ``{minutes}``, ``{key}`` (a phone key, spoken as a
word for * and #; in Korean with its object particle). Sentences with
numbers avoid grammatical agreement with the number ("Estimated wait in
minutes: 5"), because Polish, Spanish and English inflect nouns after
numbers and the same sentence must be right for every value.

Reminder-call phrases live with the reminders, not here. A clinic changes
any text in ``[prompts.texts.<lang>]`` or records its own WAV.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Thank you for calling {clinic}.",
        "es": "Gracias por llamar a {clinic}.",
        "pl": "Dzień dobry, tu {clinic}. Dziękujemy za telefon.",
        "tr": "Merhaba, burası {clinic}. Aradığınız için teşekkür ederiz.",
        "ko": "{clinic}에 전화해 주셔서 감사합니다.",
        "zh": "感谢您致电{clinic}。",
    },
    "emergency": {
        "en": "If this is a medical emergency, hang up and dial {emergency}.",
        "es": "Si se trata de una emergencia médica, cuelgue y marque el {emergency}.",
        "pl": "W nagłym przypadku zagrożenia zdrowia lub życia prosimy się rozłączyć i zadzwonić pod numer {emergency}.",
        "tr": "Acil bir sağlık durumunuz varsa lütfen telefonu kapatıp {emergency} numarasını arayın.",
        "ko": "응급 상황이라면 전화를 끊고 {emergency}번으로 전화하십시오.",
        "zh": "如遇紧急医疗情况，请挂断电话并拨打{emergency}。",
    },
    "main_menu": {
        "en": (
            "For appointments, press 1. For prescriptions and test results, press 2. "
            "For billing, press 3. To speak to the front desk, press 0."
        ),
        "es": (
            "Para citas, oprima 1. Para recetas y resultados de análisis, oprima 2. "
            "Para facturación y pagos, oprima 3. Para hablar con recepción, oprima 0."
        ),
        "pl": (
            "Aby umówić, przełożyć lub odwołać wizytę, wybierz 1. Recepty i wyniki badań: wybierz 2. "
            "Płatności i rozliczenia: wybierz 3. Aby porozmawiać z rejestracją, wybierz 0."
        ),
        "tr": (
            "Randevu işlemleri için 1 tuşuna basın. Reçete ve tahlil sonuçları için 2 tuşuna basın. "
            "Ödeme ve fatura işlemleri için 3 tuşuna basın. Danışma ile görüşmek için 0 tuşuna basın."
        ),
        "ko": "진료 예약은 1번, 처방전과 검사 결과는 2번, 수납 및 비용 문의는 3번, 접수 데스크 연결은 0번을 눌러 주십시오.",
        "zh": "预约挂号请按1，处方和检查结果请按2，缴费和账单请按3，前台人工服务请按0。",
    },
    "closed": {
        "en": "You are calling outside our opening hours.",
        "es": "Está llamando fuera de nuestro horario de atención.",
        "pl": "Dzwonią Państwo poza godzinami pracy placówki.",
        "tr": "Çalışma saatlerimiz dışında arıyorsunuz.",
        "ko": "지금은 진료 시간이 아닙니다.",
        "zh": "现在是非工作时间。",
    },
    "leave_message": {
        "en": (
            "Please leave your name, your phone number and a short message after the tone. "
            "We will call you back on the next working day."
        ),
        "es": (
            "Por favor, deje su nombre, su número de teléfono y un breve mensaje después del tono. "
            "Le devolveremos la llamada el próximo día laborable."
        ),
        "pl": (
            "Prosimy zostawić po sygnale imię i nazwisko, numer telefonu i krótką wiadomość. "
            "Oddzwonimy w najbliższy dzień roboczy."
        ),
        "tr": (
            "Lütfen sinyal sesinden sonra adınızı, telefon numaranızı ve kısa bir mesaj bırakın. "
            "Sizi ilk iş gününde geri arayacağız."
        ),
        "ko": "삐 소리가 나면 성함과 전화번호, 용건을 남겨 주십시오. 다음 진료일에 다시 연락드리겠습니다.",
        "zh": "请在提示音后留下您的姓名、电话号码和简短留言，我们将在下一个工作日给您回电。",
    },
    "invalid": {
        "en": "Sorry, that is not a valid choice.",
        "es": "Lo sentimos, esa opción no es válida.",
        "pl": "Przepraszamy, nie ma takiej opcji.",
        "tr": "Üzgünüz, geçersiz bir seçim yaptınız.",
        "ko": "죄송합니다. 잘못 누르셨습니다.",
        "zh": "对不起，您的输入无效。",
    },
    "queue_hold": {
        "en": "All our staff are busy. Please stay on the line; calls are answered in turn.",
        "es": "Todo nuestro personal está ocupado. Por favor, no cuelgue; atendemos las llamadas por orden.",
        "pl": "Wszyscy nasi pracownicy są zajęci. Prosimy pozostać na linii, odbieramy według kolejności.",
        "tr": "Tüm personelimiz şu anda meşgul. Lütfen hattan ayrılmayın, çağrılar sırayla yanıtlanır.",
        "ko": "지금은 모든 직원이 통화 중입니다. 끊지 말고 기다려 주시면 순서대로 연결해 드리겠습니다.",
        "zh": "目前所有工作人员都在忙，请不要挂机，我们将按顺序为您服务。",
    },
    "queue_position": {
        "en": "Your place in line: {position}.",
        "es": "Su lugar en la fila: {position}.",
        "pl": "Miejsce w kolejce: {position}.",
        "tr": "Sıradaki yeriniz: {position}.",
        "ko": "고객님의 대기 순번은 {position}번입니다.",
        "zh": "您目前排在第{position}位。",
    },
    "queue_position_many": {
        "en": "There are many callers ahead of you.",
        "es": "Hay muchas personas esperando delante de usted.",
        "pl": "W kolejce przed Państwem czeka wiele osób.",
        "tr": "Sizden önce sırada çok sayıda arayan var.",
        "ko": "앞에 기다리시는 분이 많습니다.",
        "zh": "您前面还有很多位来电者在等候。",
    },
    "queue_wait": {
        "en": "Estimated wait in minutes: {minutes}.",
        "es": "Tiempo estimado de espera, en minutos: {minutes}.",
        "pl": "Przewidywany czas oczekiwania w minutach: {minutes}.",
        "tr": "Tahmini bekleme süresi {minutes} dakikadır.",
        "ko": "예상 대기 시간은 약 {minutes}분입니다.",
        "zh": "预计等待时间约为{minutes}分钟。",
    },
    "queue_wait_long": {
        "en": "The wait may be longer than half an hour.",
        "es": "La espera puede superar la media hora.",
        "pl": "Czas oczekiwania może przekroczyć pół godziny.",
        "tr": "Bekleme süresi yarım saati aşabilir.",
        "ko": "대기 시간이 30분 이상 걸릴 수 있습니다.",
        "zh": "等待时间可能超过半小时。",
    },
    "callback_offer": {
        "en": "To be called back instead of waiting, press {key}. You keep your place in line.",
        "es": "Para que le devolvamos la llamada en lugar de esperar, oprima {key}. Conservará su lugar en la fila.",
        "pl": "Jeśli wolą Państwo, abyśmy oddzwonili zamiast czekać, prosimy wybrać {key}. Miejsce w kolejce zostanie zachowane.",
        "tr": "Beklemek yerine geri aranmak için {key} tuşuna basın. Sıradaki yeriniz korunur.",
        "ko": "기다리지 않고 다시 전화를 받으시려면 {key} 눌러 주십시오. 대기 순서는 그대로 유지됩니다.",
        "zh": "如果您不想等待，希望我们给您回电，请按{key}。您的排队位置将会保留。",
    },
    "callback_confirm": {
        "en": (
            "Thank you. You keep your place in line, and we will call you back at this number "
            "when it is your turn. You can hang up now."
        ),
        "es": (
            "Gracias. Conserva su lugar en la fila y le llamaremos a este número cuando sea su turno. Ya puede colgar."
        ),
        "pl": (
            "Dziękujemy. Miejsce w kolejce zostało zachowane; oddzwonimy na ten numer, gdy nadejdzie "
            "Państwa kolej. Można się teraz rozłączyć."
        ),
        "tr": (
            "Teşekkür ederiz. Sıradaki yeriniz korundu; sıranız geldiğinde sizi bu numaradan geri arayacağız. "
            "Şimdi telefonu kapatabilirsiniz."
        ),
        "ko": "감사합니다. 대기 순서는 그대로 유지되며, 차례가 되면 이 번호로 다시 전화드리겠습니다. 이제 전화를 끊으셔도 됩니다.",
        "zh": "谢谢。您的排队位置已保留，轮到您时我们会拨打这个号码给您回电。现在您可以挂机了。",
    },
    "callback_greeting": {
        "en": "Hello, this is {clinic} returning your call. Please hold while we connect you.",
        "es": "Hola, le llamamos de {clinic} para devolverle su llamada. Por favor, espere mientras le comunicamos.",
        "pl": "Dzień dobry, tu {clinic}, oddzwaniamy w odpowiedzi na Państwa telefon. Prosimy chwilę poczekać na połączenie.",
        "tr": "Merhaba, burası {clinic}. Aramanıza geri dönüyoruz. Lütfen bağlanana kadar bekleyin.",
        "ko": "안녕하세요, {clinic}입니다. 요청하신 대로 다시 전화드렸습니다. 연결될 때까지 잠시만 기다려 주십시오.",
        "zh": "您好，这里是{clinic}，我们给您回电。请稍候，正在为您接通。",
    },
    "overflow": {
        "en": "We are sorry, all our staff are busy right now.",
        "es": "Lo sentimos, en este momento todo nuestro personal está ocupado.",
        "pl": "Przepraszamy, w tej chwili wszyscy nasi pracownicy są zajęci.",
        "tr": "Üzgünüz, şu anda tüm personelimiz meşgul.",
        "ko": "죄송합니다. 지금은 모든 직원이 통화 중입니다.",
        "zh": "对不起，目前所有工作人员都在忙。",
    },
    "recording_notice": {
        "en": "This call may be recorded for quality and training.",
        "es": "Esta llamada puede ser grabada con fines de calidad y formación.",
        "pl": "Rozmowa może być nagrywana w celu zapewnienia jakości obsługi i szkoleń.",
        "tr": "Bu görüşme kalite ve eğitim amacıyla kaydedilebilir.",
        "ko": "이 통화는 서비스 품질 향상과 교육을 위해 녹음될 수 있습니다.",
        "zh": "为保证服务质量和培训需要，本次通话可能会被录音。",
    },
    "goodbye": {
        "en": "Thank you for calling. Goodbye.",
        "es": "Gracias por su llamada. Adiós.",
        "pl": "Dziękujemy za telefon. Do widzenia.",
        "tr": "Aradığınız için teşekkür ederiz. İyi günler.",
        "ko": "전화해 주셔서 감사합니다. 안녕히 계십시오.",
        "zh": "感谢您的来电，再见。",
    },
    "language_option": {
        "en": "For English, press {key}.",
        "es": "Para español, oprima {key}.",
        "pl": "Język polski: wybierz {key}.",
        "tr": "Türkçe için {key} tuşuna basın.",
        "ko": "한국어는 {key} 눌러 주십시오.",
        "zh": "普通话服务请按{key}。",
    },
}

#: How a phone key is read out inside a sentence, per language. Korean
#: carries the object particle (을/를) because it depends on the word.
KEY_WORDS: dict[str, dict[str, str]] = {
    "en": {"*": "star", "#": "pound"},
    "es": {"*": "asterisco", "#": "numeral"},
    "pl": {"*": "gwiazdkę", "#": "krzyżyk"},
    "tr": {"*": "yıldız", "#": "kare"},
    "ko": {"*": "별표를", "#": "우물 정자를"},
    "zh": {"*": "星号", "#": "井号"},
}
