//! The words of an unexcused-absence alert, in the guardian's language.
//! A text names the pupil by first name, the lesson and its time; never a
//! personal number or the teacher's comment. It fits one SMS (160
//! characters of the GSM alphabet, which has å, ä and ö) for a lesson
//! title of ordinary length.

use super::AlertLesson;
use crate::directory::{Language, Person};

fn time(lesson: &AlertLesson) -> String {
    lesson.start.format("%H:%M").to_string()
}

fn date(lesson: &AlertLesson) -> String {
    lesson.start.format("%Y-%m-%d").to_string()
}

pub fn sms(lang: Language, pupil: &Person, lesson: &AlertLesson) -> String {
    let (name, title, time) = (&pupil.given_name, &lesson.title, time(lesson));
    match lang {
        Language::Sv => format!(
            "{name} är registrerad med ogiltig frånvaro i dag på {title} kl. {time}. \
             Kontakta skolan om det inte stämmer. /Skolnav"
        ),
        Language::En => format!(
            "{name} is registered as absent without a valid reason today at {title} \
             ({time}). Please contact the school if this is wrong. /Skolnav"
        ),
    }
}

pub fn mail(lang: Language, pupil: &Person, lesson: &AlertLesson) -> (String, String) {
    let (name, title) = (&pupil.given_name, &lesson.title);
    let (date, time) = (date(lesson), time(lesson));
    match lang {
        Language::Sv => (
            format!("Ogiltig frånvaro: {name}"),
            format!(
                "Hej!\n\n{name} är registrerad med ogiltig frånvaro i dag, {date}, på \
                 lektionen {title} kl. {time}.\n\nSkolan informerar vårdnadshavare samma \
                 dag när en elev är frånvarande utan giltigt skäl. Kontakta skolan om \
                 uppgiften inte stämmer, eller anmäl frånvaron i Skolnav.\n"
            ),
        ),
        Language::En => (
            format!("Unexcused absence: {name}"),
            format!(
                "Hello,\n\n{name} is registered as absent without a valid reason today, \
                 {date}, at the lesson {title} ({time}).\n\nThe school tells guardians \
                 the same day when a pupil is absent without a valid reason. Please \
                 contact the school if this is wrong, or report the absence in Skolnav.\n"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::MailPreferences;
    use crate::ids::{LessonId, PersonId};
    use chrono::DateTime;

    fn pupil() -> Person {
        Person {
            id: PersonId::generate(),
            given_name: "Elsa".into(),
            family_name: "Lind".into(),
            email: None,
            mobile: None,
            text_to: None,
            language: Language::Sv,
            mail: MailPreferences::default(),
            left: None,
            protected_identity: false,
        }
    }

    fn lesson() -> AlertLesson {
        AlertLesson {
            lesson_id: LessonId::generate(),
            title: "Matematik 7B".into(),
            start: DateTime::parse_from_rfc3339("2026-11-30T08:15:00+01:00").unwrap(),
        }
    }

    #[test]
    fn the_text_names_first_name_lesson_and_local_time_and_fits_one_sms() {
        for lang in [Language::Sv, Language::En] {
            let text = sms(lang, &pupil(), &lesson());
            assert!(
                text.contains("Elsa") && text.contains("Matematik 7B"),
                "{text}"
            );
            assert!(text.contains("08:15"), "{text}");
            assert!(!text.contains("Lind"), "no family name: {text}");
            assert!(
                text.chars().count() <= 160,
                "{} chars",
                text.chars().count()
            );
        }
    }

    #[test]
    fn the_mail_says_the_day_in_the_guardians_language() {
        let (subject, text) = mail(Language::En, &pupil(), &lesson());
        assert_eq!(subject, "Unexcused absence: Elsa");
        assert!(
            text.contains("2026-11-30") && text.contains("08:15"),
            "{text}"
        );
    }
}
