// The idle sign-out warning (ADR 0010), in the manner of the GOV.UK timeout warning pattern.
// The server signs an idle user out by itself; this only warns first, and lets the user stay.
// Before opening, it asks the server how long is really left (another tab may have kept the session alive).

function inWords (seconds) {
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  const parts = []
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? '' : 's'}`)
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? '' : 's'}`)
  return parts.join(' ')
}

export function initTimeoutWarning (dialog) {
  if (!dialog || typeof dialog.showModal !== 'function') return
  const signOutAfter = Number(dialog.dataset.timeoutSeconds)
  const warnBefore = Number(dialog.dataset.warningSeconds)
  const statusUrl = dialog.dataset.statusUrl
  const heading = dialog.querySelector('h2')
  const countdown = dialog.querySelector('.opennrm-timeout-countdown')
  const announcer = dialog.querySelector('.opennrm-timeout-announcer')
  const keepAlive = dialog.querySelector('form.opennrm-timeout-keep-alive')
  const signOut = dialog.querySelector('form.opennrm-timeout-sign-out')
  let checkTimer = null
  let tickTimer = null
  let expiresAt = 0
  let focusBefore = null

  function schedule (secondsLeft) {
    clearTimeout(checkTimer)
    checkTimer = setTimeout(check, Math.max(0, secondsLeft - warnBefore) * 1000)
  }

  async function askServer (url, options) {
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options })
      return response.ok ? await response.json() : null
    } catch {
      return null
    }
  }

  async function check () {
    const status = await askServer(statusUrl)
    if (status && !status.signed_in) return expire()
    const left = status ? status.seconds_left : warnBefore
    if (left > warnBefore) return schedule(left)
    open(left)
  }

  function open (secondsLeft) {
    expiresAt = Date.now() + secondsLeft * 1000
    if (!dialog.open) {
      focusBefore = document.activeElement
      dialog.showModal()
    }
    heading.focus()
    tick(true)
  }

  function tick (announce) {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000))
    countdown.textContent = inWords(left)
    // A screen reader hears the time at opening and every 20 seconds, not every second.
    if (announce || left % 20 === 0) announcer.textContent = `We will sign you out in ${inWords(left)}.`
    if (left <= 0) return expire()
    tickTimer = setTimeout(() => tick(false), 1000)
  }

  function expire () {
    clearTimeout(tickTimer)
    clearTimeout(checkTimer)
    signOut.elements.reason.value = 'idle'
    signOut.submit()
  }

  function close () {
    clearTimeout(tickTimer)
    announcer.textContent = ''
    dialog.close()
    if (focusBefore && typeof focusBefore.focus === 'function') focusBefore.focus()
  }

  keepAlive.addEventListener('submit', async (event) => {
    event.preventDefault()
    const status = await askServer(keepAlive.action, { method: 'POST', body: new FormData(keepAlive) })
    if (!status || !status.signed_in) return window.location.reload()
    close()
    schedule(status.seconds_left)
  })
  // Escape means "stay signed in", as in the GOV.UK pattern, rather than leaving a silent countdown.
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    keepAlive.requestSubmit()
  })

  schedule(signOutAfter)
}
