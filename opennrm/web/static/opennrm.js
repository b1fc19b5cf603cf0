// Progressive enhancement only: every page works without this script.
import { initAll } from './govuk/govuk-frontend.min.js'
import { initTimeoutWarning } from './opennrm-timeout.js'

initAll()
initTimeoutWarning(document.getElementById('timeout-warning'))
