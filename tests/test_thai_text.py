"""The shared Thai segmentation: run-on text, spacing, digits and chat particles."""

from clinic import thai_text


def test_run_on_and_spaced_text_give_the_same_content_words() -> None:
    run_on = set(thai_text.words("หนังสือภายนอกใช้กระดาษตราครุฑหรือเปล่าคะ"))
    spaced = set(thai_text.words("หนังสือ ภายนอก ใช้ กระดาษ ตราครุฑ หรือเปล่า ครับ"))
    assert {"หนังสือภายนอก", "หนังสือ", "ภายนอก", "ตราครุฑ"} <= run_on
    assert {"หนังสือภายนอก", "หนังสือ", "ภายนอก", "ตราครุฑ"} <= spaced


def test_particles_and_punctuation_are_dropped_and_digits_are_arabic() -> None:
    found = thai_text.words("อยากทราบว่าเก็บหนังสือ ๑๐ ปีใช่ไหมคะ??")
    assert "คะ" not in found and "ว่า" not in found and "??" not in found
    assert "10" in found and "เก็บ" in found


def test_segmented_keeps_every_word_in_order_for_a_full_text_index() -> None:
    assert thai_text.segmented("การชักธงครึ่งเสา") == "การ ชักธง ครึ่งเสา ครึ่ง เสา"
    assert thai_text.segmented("   ") == ""


def test_english_loanwords_survive() -> None:
    assert thai_text.words("ส่ง PDF ทาง E-mail ได้ไหม") == ["ส่ง", "pdf", "ทาง", "e-mail"]
