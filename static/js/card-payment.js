// The payment page: Stripe.js's card element, and paying the order's PaymentIntent with it
// (or, on the card page of recurring care, data-mode="setup", saving the card for later).
// Card details go from the card element to Stripe only; this script never reads them. After
// paying (or 3-D Secure) the browser goes to our return page, which asks Stripe itself
// whether the payment went through: nothing here is believed by the server.
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var button = document.getElementById("pay-button");
  var summary = document.getElementById("payment-errors");
  var summaryMessage = document.getElementById("payment-error-message");
  var group = document.getElementById("card-group");
  var fieldError = document.getElementById("card-error");
  var data = form.dataset;

  var stripe = window.Stripe(data.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  button.disabled = false;

  function showError(message) {
    summaryMessage.textContent = message;
    fieldError.textContent = "";
    var hidden = document.createElement("span");
    hidden.className = "govuk-visually-hidden";
    hidden.textContent = "Error: ";
    fieldError.appendChild(hidden);
    fieldError.appendChild(document.createTextNode(message));
    fieldError.hidden = false;
    group.classList.add("govuk-form-group--error");
    summary.hidden = false;
    if (!document.title.startsWith("Error: ")) {
      document.title = "Error: " + document.title;
    }
    summary.focus();
    button.disabled = false;
  }

  function finish(returnUrl) {
    window.location.assign(returnUrl || data.returnUrl);
  }

  function confirmInBrowser(clientSecret, returnUrl) {
    // 3-D Secure, when the bank asks for it, is Stripe.js's own window.
    return stripe
      .confirmCardPayment(clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          // Declined, or 3-D Secure failed: say so here; the order can be paid again.
          showError(
            result.error.message ||
              "Your payment did not go through. Try again, or use another card."
          );
        } else {
          finish(returnUrl);
        }
      });
  }

  // localstripe (development and tests only) cannot confirm a card from the browser: its
  // card element makes a token at localstripe, and our server confirms the intent with it.
  function confirmOnServer() {
    return stripe.createToken(card).then(function (result) {
      if (result.error || !result.token) {
        showError((result.error && result.error.message) || "Check your card details.");
        return;
      }
      var body = new URLSearchParams();
      body.append("csrf_token", form.elements.csrf_token.value);
      body.append("card", result.token.card.id);
      return fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (answer.status === "requires_action") {
            return confirmInBrowser(answer.client_secret, answer.return_url);
          }
          if (answer.status === "declined" || answer.status === "unavailable") {
            showError(answer.message);
            return;
          }
          finish(answer.return_url);
        });
    });
  }

  // The card page of recurring care: save the card (a SetupIntent) for the periods to come.
  // localstripe's Stripe.js confirms a SetupIntent itself, so no server step is needed.
  function saveCard() {
    return stripe
      .confirmCardSetup(data.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          showError(
            result.error.message || "Your card was not saved. Try again, or use another card."
          );
        } else {
          finish();
        }
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    var paying =
      data.mode === "setup"
        ? saveCard()
        : data.confirmOnServer === "true"
          ? confirmOnServer()
          : confirmInBrowser(data.clientSecret);
    paying.catch(function () {
      showError("Card payments are not working at the moment. Nothing has been charged: try again later.");
    });
  });
})();
