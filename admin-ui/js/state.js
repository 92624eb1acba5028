/*
 * What the console knows between renderings: the session, the view on
 * screen, its refresh timer and the lists the views share (the logs view
 * names keys from the keys view's list, the models view pins accounts).
 */


export const state = {
    authed: false,
    method: '',
    view: null,
    timer: null,
    accounts: [],
    models: [],
    settings: null,
    settingGroups: null,
    keys: [],
    logs: { rows: [], key_id: '', limit: 50, before: [] },
    history: { q: '', key_id: '', model: '', account: '', from: '', to: '',
               limit: 50, before: [], data: null, choices: null,
               missing: false },
    newKeys: [],    /* new keys shown once, newest first, until dismissed */
};
