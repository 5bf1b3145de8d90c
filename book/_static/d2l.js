// The language switch keeps the reader's place: every section has an id "d2l-sN" that is the
// same in both languages (the pages mirror each other's headings), so the switch links to the
// section that holds the current anchor.
document.addEventListener('DOMContentLoaded', () => {
  for (const link of document.querySelectorAll('a.d2l-lang-switch')) {
    link.addEventListener('click', () => {
      const base = link.getAttribute('href').split('#')[0];
      let anchor = '';
      const id = decodeURIComponent(window.location.hash.slice(1));
      const target = id && document.getElementById(id);
      const section = target && target.closest('section');
      if (section) {
        const marker = section.id.startsWith('d2l-s') ? section
          : section.querySelector(':scope > span[id^="d2l-s"]');
        if (marker) anchor = '#' + marker.id;
      }
      link.setAttribute('href', base + anchor);
    });
  }
});
