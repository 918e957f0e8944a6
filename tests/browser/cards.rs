//! Sign-in cards: a tutor prints a class's first passwords, and a pupil
//! signs in by scanning the card's QR code, read here by an independent
//! decoder (ZXing, through Python's `zxing-cpp`).

use super::support::*;

/// The text of the QR code in `png`, as ZXing reads it; `None` (after
/// [`skip`]) when the decoder is not installed.
fn decode_qr(png: &[u8]) -> Option<String> {
    let ready = std::process::Command::new("python3")
        .args(["-c", "import zxingcpp, PIL"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        skip(
            "Python zxing-cpp and pillow are not installed (pip install zxing-cpp pillow)",
            "nothing: install them",
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.png");
    std::fs::write(&path, png).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zxingcpp; from PIL import Image\n\
             found = zxingcpp.read_barcodes(Image.open(sys.argv[1]).convert('L'))\n\
             print('\\n'.join(f.text for f in found if f.format == zxingcpp.BarcodeFormat.QRCode))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

#[tokio::test]
async fn a_tutor_prints_sign_in_cards_and_a_pupil_signs_in_by_scanning_one() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let reply = coord
        .put_raw(
            &format!("/api/schools/{}/roster", world.a.id),
            "text/csv",
            "student_ref,given_name,family_name,year_group,role,subjects,username\n\
             R-1,Aoife,Murphy,8,mentee,Maths,\n\
             R-2,Tomás,Byrne,8,mentee,English,\n\
             R-3,Dev,Sharma,12,mentor,Physics,dev.s\n",
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text);
    let browser = open_browser(&driver, &chromium).await;

    sign_in(&browser, &app, "coord.a", mentorbridge_tests::PASSWORD).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/school/students", app.base))
        .await
        .unwrap();
    let button = text_of(&browser, "#make-cards").await;
    assert!(button.contains("3 without a password"), "{button}");
    browser
        .find(Locator::Css("#cards-year option[value='8']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eval(
        &browser,
        "document.querySelector('#cards').scrollIntoView()",
    )
    .await;
    save_screenshot(&browser, "sign-in-cards-form").await;
    click(&browser, Locator::Id("make-cards")).await;
    wait_for_text(&browser, "#cards-made", "shown only on this page").await;
    save_screenshot(&browser, "sign-in-cards").await;

    let cards = browser
        .find_all(Locator::Css("[data-testid=sign-in-card]"))
        .await
        .unwrap();
    let mut names = Vec::new();
    for card in &cards {
        names.push(
            card.find(Locator::Css("h2"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    names.sort();
    assert_eq!(
        names,
        ["Aoife Murphy", "Tomás Byrne"],
        "only Year 8 gets cards"
    );

    let aoife = browser
        .find(Locator::XPath(
            "//*[@data-testid='sign-in-card'][.//h2[. = 'Aoife Murphy']]",
        ))
        .await
        .unwrap();
    let password = aoife
        .find(Locator::Css("code.password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let qr = aoife
        .find(Locator::Css(".qr svg"))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    let Some(link) = decode_qr(&qr) else {
        return;
    };
    assert_eq!(link, format!("{}/login?username=aoife.murphy", app.base));

    // The pupil scans the card: the sign-in page opens with the username
    // filled in and the password box ready for typing.
    sign_out(&browser).await;
    browser.goto(&link).await.unwrap();
    let filled = eval(&browser, "return document.querySelector('#username').value").await;
    assert_eq!(filled, "aoife.murphy");
    let focused = eval(
        &browser,
        "return document.activeElement && document.activeElement.id",
    )
    .await;
    assert_eq!(focused, "password");
    save_screenshot(&browser, "sign-in-from-card").await;
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    click(&browser, Locator::Id("sign-in")).await;
    wait_for_text(&browser, "#home-heading", "Aoife").await;
}
