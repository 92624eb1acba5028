/*
 * The phone-width menu: below 760 px the navigation and the top bar's
 * tools fold behind one "Menu" button (style.css hides them unless the
 * header has .open).  The button says whether the menu is open
 * (aria-expanded); Esc closes it and gives the focus back to the button,
 * and so do picking a page and a click outside it.
 */

import { $ } from './dom.js';


function setOpen(open, focusButton) {
    const top = $('header.top');
    const b = $('#menu');

    top.classList.toggle('open', open);
    b.setAttribute('aria-expanded', String(open));

    if (open) {
        const first = $('#nav:not([hidden]) a') || $('#lang');

        if (first) {
            first.focus();
        }
    } else if (focusButton) {
        b.focus();
    }
}

export function initMenu() {
    const b = $('#menu');
    const top = $('header.top');

    b.addEventListener('click', () => {
        setOpen(!top.classList.contains('open'), false);
    });

    top.addEventListener('keydown', (e) => {
        if (e.key === 'Escape' && top.classList.contains('open')) {
            e.preventDefault();
            setOpen(false, true);
        }
    });

    $('#nav').addEventListener('click', (e) => {
        if (e.target.closest('a') && top.classList.contains('open')) {
            setOpen(false, false);
        }
    });

    document.addEventListener('click', (e) => {
        if (top.classList.contains('open') && !top.contains(e.target)) {
            setOpen(false, false);
        }
    });
}
